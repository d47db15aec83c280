"""Every side effect of reentry: notifications now, partner systems later.

Activities are idempotent: Temporal may run one more than once.
"""

from activities.notifications import NotificationActivities
from activities.projection import ProjectionActivities

__all__ = ["NotificationActivities", "ProjectionActivities"]

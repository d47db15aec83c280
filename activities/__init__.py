"""Every side effect of reentry: notifications, the read-model projection, and the
partner systems (``activities.partners``).

Activities are idempotent: Temporal may run one more than once.
"""

from activities.notifications import NotificationActivities
from activities.projection import ProjectionActivities

__all__ = ["NotificationActivities", "ProjectionActivities"]

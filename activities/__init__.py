"""Every side effect of reentry: notifications now, partner systems later.

Activities are idempotent: Temporal may run one more than once.
"""

from activities.notifications import NotificationActivities

__all__ = ["NotificationActivities"]

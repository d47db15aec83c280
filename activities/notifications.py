"""Reminders and escalations about tasks.

For now a notification is written to the log (ids and roles only, never personal data)
and the case keeps the record of what was sent; delivery to mail and webhooks of the
municipality comes with the partner integrations.
"""

from __future__ import annotations

import logging

from temporalio import activity

from domain.models import CaseClosedNotice, Notification

logger = logging.getLogger("reentry.notifications")


class NotificationActivities:
    """Delivers reminders and escalations. Idempotent: receivers dedupe by ``notification_id``."""

    @activity.defn
    async def send_notification(self, notification: Notification) -> None:
        logger.info(
            "task %s of %s: %s to %s (team %s), due %s [%s]",
            notification.task_key,
            notification.case_id,
            notification.level.value,
            notification.recipient_role,
            notification.team,
            notification.due.isoformat() if notification.due else "-",
            notification.notification_id,
        )

    @activity.defn
    async def announce_case_closed(self, notice: CaseClosedNotice) -> None:
        logger.info("%s closed: %s", notice.case_id, notice.reason.value)

"""Reminders and escalations about tasks, and the news that a case closed.

With a delivery (``activities.partners.delivery``), a reminder goes by e-mail and to Open
Notificaties; without one (tests, a municipality without either), it is written to the
log. Either way it carries ids, roles and levels only, never personal data, and the case
keeps the record of what was sent.
"""

from __future__ import annotations

import logging

from temporalio import activity

from activities.metrics import ESCALATIONS_SENT
from activities.partners.delivery import NotificationDeliveryActivities
from domain.models import CaseClosedNotice, Notification

logger = logging.getLogger("reentry.notifications")


class NotificationActivities:
    """Delivers reminders and escalations. Idempotent: receivers dedupe by ``notification_id``
    (the mail's Message-ID is derived from it)."""

    def __init__(self, delivery: NotificationDeliveryActivities | None = None) -> None:
        self._delivery = delivery

    @activity.defn
    async def send_notification(self, notification: Notification) -> None:
        if self._delivery is None:
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
            ESCALATIONS_SENT.labels(notification.municipality, notification.level.value, "log").inc()
            return
        # A channel that has delivered is remembered in the heartbeat: a retry after the
        # other channel failed does not send it again.
        details = activity.info().heartbeat_details
        done: set[str] = set(details[0]) if details else set()
        channels = {
            "mail": self._delivery.mail_task_notification,
            "open_notificaties": self._delivery.publish_task_notification,
        }
        for channel, deliver in channels.items():
            if channel in done:
                continue
            await deliver(notification)
            done.add(channel)
            activity.heartbeat(sorted(done))

    @activity.defn
    async def announce_case_closed(self, notice: CaseClosedNotice) -> None:
        logger.info("%s closed: %s", notice.case_id, notice.reason.value)
        if self._delivery is not None:
            await self._delivery.publish_case_closed(notice)

"""Reminders and escalations on their way, beside a workflow's own loop: a mail server that
is down holds up no one. Each notification is tried for the bound of
``NOTIFICATION_DELIVERY``; one that cannot be delivered is recorded as such, and the
ladder goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.follow_ups.driver import SYSTEM_ACTOR

with workflow.unsafe.imports_passed_through():
    from activities import NotificationActivities
    from activities.partners.options import NOTIFICATION_DELIVERY
    from domain.models import Notification


class Outbox:
    """The notifications of one run that are still to go out; not carried over to the next
    run: a run empties it (``finish``) before it continues as new or closes."""

    def __init__(
        self,
        changed_by: Callable[[str, str, str | None], None],
        sent: Callable[[Notification], None],
    ) -> None:
        self._changed_by, self._sent = changed_by, sent
        self._waiting: list[Notification] = []
        self._delivery: asyncio.Task[None] | None = None

    def extend(self, notifications: Iterable[Notification]) -> None:
        self._waiting.extend(notifications)

    def start(self) -> None:
        if self._waiting and (self._delivery is None or self._delivery.done()):
            self._delivery = asyncio.create_task(self._deliver())

    async def finish(self) -> None:
        """Wait until the outbox is empty: everything in it delivered, or given up on."""
        while True:
            if self._delivery is not None and not self._delivery.done():
                await self._delivery
            if not self._waiting:
                return
            self.start()

    async def _deliver(self) -> None:
        while self._waiting:
            notification = self._waiting.pop(0)
            level, key = notification.level.value, notification.task_key
            try:
                await workflow.execute_activity_method(
                    NotificationActivities.send_notification, notification, **NOTIFICATION_DELIVERY.kwargs()
                )
            except ActivityError:
                # Not delivered within the bound: the timeline says so, the ladder goes on.
                self._changed_by(SYSTEM_ACTOR, f"{level}_not_delivered", key)
                continue
            notification.sent_at = workflow.now()
            self._sent(notification)
            self._changed_by(SYSTEM_ACTOR, f"{level}_sent", key)

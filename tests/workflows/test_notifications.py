"""Reminders and escalations go out beside the case's own loop: a mail server that is down
holds up no one, and a reminder that cannot be delivered within a day is recorded as such."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.notifications import NotificationActivities
from activities.partners.options import NOTIFICATION_DELIVERY
from domain.models import Notification, TaskStatus, local_date
from tests.helpers import advice_requested, notice, registered_here
from tests.workflows.driver import CaseDriver
from worker.temporal import build_worker


class MailServerDown(NotificationActivities):
    """Every delivery fails as a partner that is down does: retryable."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts = 0

    @activity.defn(name="send_notification")
    async def send_notification(self, notification: Notification) -> None:
        self.attempts += 1
        raise ApplicationError("the mail server does not answer", type="PartnerUnreachable")


@pytest.fixture
async def down(env: WorkflowEnvironment, workflow_engine: Engine) -> AsyncIterator[tuple[str, MailServerDown]]:
    queue, notifications = f"cases-{uuid.uuid4()}", MailServerDown()
    async with build_worker(
        env.client, queue, workflow_engine, [registered_here, advice_requested], notifications=notifications
    ):
        yield queue, notifications


async def test_a_reminder_that_cannot_be_delivered_holds_nothing_up_and_is_recorded(env, down):
    queue, notifications = down
    case = await CaseDriver.start(env, queue, notice(local_date(await env.get_current_time())))
    try:
        # The day-one reminder of `contact_prison` is being tried; the case answers meanwhile.
        claimed = await case.claim("contact_prison", actor="anna")
        assert claimed.assignee == "anna"
        assert notifications.attempts >= 1

        await env.sleep(NOTIFICATION_DELIVERY.schedule_to_close_timeout + timedelta(hours=1))
        state = await case.eventually(lambda s: any(h.action == "reminder_not_delivered" for h in s.history))
        assert [n.task_key for n in state.notifications] == []
        assert state.task("contact_prison").status == TaskStatus.OPEN
        # The case goes on as before: the task can be completed.
        done = await case.complete("contact_prison", {"kind": "contact", "contacted_on": str(await case.today())})
        assert done.status == TaskStatus.COMPLETED
    finally:
        with contextlib.suppress(Exception):
            await case.event({"type": "closed", "note": "test finished"}, actor="test")
        await case.handle.result()

"""Reminders and escalations delivered: e-mail to a real SMTP server, and Open
Notificaties messages; neither carries personal data."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notifications import NotificationActivities
from activities.partners import (
    MailSender,
    NotificationDeliveryActivities,
    OpenNotificatiesClient,
    PartnerFailed,
    PartnerUnreachable,
    RequestRejected,
)
from activities.partners.delivery import MailMessage
from domain.models import CaseClosedNotice, ClosedReason, EscalationLevel, Notification
from partners.mail import start_mail_server
from partners.state import ReceivedMail
from tests.partners.simulator import set_faults

Connect = Callable[..., Any]
DUE = datetime(2027, 1, 11, tzinfo=UTC)


@pytest.fixture
async def smtp() -> AsyncIterator[tuple[int, list[ReceivedMail]]]:
    """A real SMTP server (aiosmtpd) on a free port, and what it received."""
    inbox: list[ReceivedMail] = []
    server = await start_mail_server(inbox, port=0)
    yield server.sockets[0].getsockname()[1], inbox
    server.close()
    await server.wait_closed()


def notification(level: EscalationLevel = EscalationLevel.SUPERVISOR, **fields: Any) -> Notification:
    values: dict[str, Any] = {
        "notification_id": f"case-DJI-2027-000401/contact_prison/{level.value}/{DUE.isoformat()}",
        "case_id": "case-DJI-2027-000401",
        "municipality": "0855",
        "task_key": "contact_prison",
        "level": level,
        "recipient_role": {"reminder": "assignee", "supervisor": "supervisor", "coordinator": "coordinator"}[
            level.value
        ],
        "team": "nazorg-tilburg",
        "assignee": "anna",
        "due": DUE,
    }
    return Notification(**(values | fields))


def activities(port: int, connect: Connect) -> NotificationDeliveryActivities:
    mail = MailSender("127.0.0.1", port, sender="reentry@tilburg.example", timeout=2)
    return NotificationDeliveryActivities(
        mail, connect(OpenNotificatiesClient), mail_domain="tilburg.example", api_url="https://reentry.tilburg.example/"
    )


async def test_an_escalation_is_mailed_to_the_supervisor(smtp: tuple[int, list[ReceivedMail]], connect: Connect):
    port, inbox = smtp
    await ActivityEnvironment().run(activities(port, connect).mail_task_notification, notification())
    (mail,) = inbox
    assert mail.mail_from == "reentry@tilburg.example"
    assert mail.to == ["supervisor.nazorg-tilburg@tilburg.example"]
    assert mail.subject == "Te laat, naar de leidinggevende: contact_prison (case-DJI-2027-000401)"
    assert "Uiterlijk: 2027-01-11" in mail.body
    assert "https://reentry.tilburg.example/v1/cases/case-DJI-2027-000401" in mail.body
    assert mail.message_id is not None and mail.message_id.endswith("@reentry>")


async def test_the_same_notification_mailed_twice_has_the_same_message_id(
    smtp: tuple[int, list[ReceivedMail]], connect: Connect
):
    port, inbox = smtp
    deliver = activities(port, connect)
    reminder = notification(EscalationLevel.REMINDER)
    await ActivityEnvironment().run(deliver.mail_task_notification, reminder)
    await ActivityEnvironment().run(deliver.mail_task_notification, reminder)  # a retry after a lost answer
    await ActivityEnvironment().run(deliver.mail_task_notification, notification(EscalationLevel.COORDINATOR))
    assert [m.to for m in inbox] == [["anna@tilburg.example"]] * 2 + [["coordinator.0855@tilburg.example"]]
    assert inbox[0].message_id == inbox[1].message_id != inbox[2].message_id


async def test_a_refused_mailbox_is_final_and_a_full_one_is_tried_again(smtp: tuple[int, list[ReceivedMail]]):
    port, _ = smtp
    sender = MailSender("127.0.0.1", port, sender="reentry@tilburg.example", timeout=2)

    def to(address: str) -> MailMessage:
        return MailMessage(to=[address], subject="Herinnering", body="-", message_id="x@reentry")

    with pytest.raises(RequestRejected) as refused:
        await sender.send(to("unknown.team@tilburg.example"))
    assert refused.value.status == 550 and not refused.value.retryable
    with pytest.raises(PartnerFailed) as full:
        await sender.send(to("full.team@tilburg.example"))
    assert full.value.status == 452 and full.value.retryable


async def test_a_mail_server_that_cannot_be_reached_is_retryable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    deliver = NotificationDeliveryActivities(
        MailSender("127.0.0.1", port, sender="reentry@tilburg.example", timeout=2),
        OpenNotificatiesClient.connect("http://unused.test"),
        mail_domain="tilburg.example",
        api_url="http://reentry.test",
    )
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(deliver.mail_task_notification, notification())
    assert raised.value.type == PartnerUnreachable.type and not raised.value.non_retryable


async def test_an_escalation_is_published_in_the_open_notificaties_shape_with_ids_only(
    sim: httpx.AsyncClient, connect: Connect
):
    env = ActivityEnvironment()
    scheduled = datetime(2027, 1, 11, 0, 0, 5, tzinfo=UTC)
    env.info = dataclasses.replace(env.info, scheduled_time=scheduled)
    await env.run(activities(0, connect).publish_task_notification, notification())
    (received,) = (await sim.get("/_sim/received/notifications")).json()
    assert received == {
        "kanaal": "reentry-taken",
        "hoofdObject": "https://reentry.tilburg.example/v1/cases/case-DJI-2027-000401",
        "resource": "task",
        "resourceUrl": "https://reentry.tilburg.example/v1/cases/case-DJI-2027-000401/tasks/contact_prison",
        "actie": "escalated",
        "aanmaakdatum": "2027-01-11T00:00:05Z",
        "kenmerken": {"case_id": "case-DJI-2027-000401", "task_key": "contact_prison", "level": "supervisor"},
    }
    # Not even the assignee, the team or the municipality: ids and the level only.
    assert "anna" not in str(received) and "nazorg" not in str(received) and "0855" not in str(received)


async def test_a_closed_case_is_published_without_its_reason(sim: httpx.AsyncClient, connect: Connect):
    closed = CaseClosedNotice(
        case_id="case-DJI-2027-000402",
        municipality="0855",
        reason=ClosedReason.DECEASED,
        closed_at=datetime(2027, 3, 1, 9, tzinfo=UTC),
    )
    await ActivityEnvironment().run(activities(0, connect).publish_case_closed, closed)
    (received,) = (await sim.get("/_sim/received/notifications")).json()
    assert (received["kanaal"], received["resource"], received["actie"]) == ("reentry-casussen", "case", "closed")
    assert received["kenmerken"] == {"case_id": "case-DJI-2027-000402"}
    assert "deceased" not in str(received)


async def test_an_unreachable_notification_component_is_retryable(sim: httpx.AsyncClient, connect: Connect):
    await set_faults(sim, notifications={"error_rate": 1})
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(activities(0, connect).publish_task_notification, notification())
    assert raised.value.type == "PartnerFailed" and not raised.value.non_retryable


async def test_the_case_reminder_goes_by_mail_and_to_open_notificaties_and_a_retry_sends_only_what_failed(
    smtp: tuple[int, list[ReceivedMail]], sim: httpx.AsyncClient, connect: Connect
):
    port, inbox = smtp
    sending = NotificationActivities(activities(port, connect))
    await set_faults(sim, notifications={"error_rate": 1.0})
    first = ActivityEnvironment()
    remembered: list[Any] = []
    first.on_heartbeat = lambda *details: remembered.append(details[0])
    with pytest.raises(ApplicationError):
        await first.run(sending.send_notification, notification())
    assert len(inbox) == 1 and remembered == [["mail"]]

    await set_faults(sim)
    retry = ActivityEnvironment()
    retry.info = dataclasses.replace(retry.info, attempt=2, heartbeat_details=remembered[-1:])
    await retry.run(sending.send_notification, notification())
    assert len(inbox) == 1, "the mail went out once"
    (published,) = (await sim.get("/_sim/received/notifications")).json()
    assert published["kenmerken"] == {
        "case_id": "case-DJI-2027-000401",
        "task_key": "contact_prison",
        "level": "supervisor",
    }

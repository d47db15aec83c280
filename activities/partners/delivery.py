"""Reminders and escalations out: by e-mail over SMTP, and as Open Notificaties messages.

Neither carries personal data: a mail names the case id, the task key, the level and the
due date, and links to the case; a notification's ``kenmerken`` are the case id, the task
key and the level. Both are idempotent for their receivers: the mail's ``Message-ID`` and
the notification's ``resourceUrl`` and ``aanmaakdatum`` are derived from the
notification, so a delivery retried after a lost answer can be recognised as the same.
"""

from __future__ import annotations

import asyncio
import hashlib
import smtplib
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from pydantic import BaseModel, ConfigDict, Field
from temporalio import activity

from activities.metrics import ESCALATIONS_SENT
from activities.partners.errors import (
    PartnerFailed,
    PartnerTimeout,
    PartnerUnreachable,
    RequestRejected,
    as_activity_errors,
)
from activities.partners.http import PartnerClient
from domain.models import CaseClosedNotice, EscalationLevel, Notification

# ---------------------------------------------------------------------------
# E-mail


class MailMessage(BaseModel):
    to: list[str] = Field(min_length=1)
    subject: str
    body: str
    message_id: str  # without the angle brackets
    sent_at: datetime | None = None


class MailSender:
    """Sends mail through an SMTP server (the stdlib client, in a thread)."""

    partner = "mail"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        timeout: float = 10.0,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout
        self._starttls, self._username, self._password = starttls, username, password

    async def send(self, message: MailMessage) -> None:
        await asyncio.to_thread(self._send, message)

    def _send(self, message: MailMessage) -> None:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = ", ".join(message.to)
        mail["Subject"] = message.subject
        mail["Message-ID"] = f"<{message.message_id}>"
        if message.sent_at is not None:
            mail["Date"] = format_datetime(message.sent_at)
        mail.set_content(message.body)
        where = f"{self.partner}: SMTP {self.host}:{self.port}"
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout, local_hostname="reentry") as smtp:
                if self._starttls:
                    smtp.starttls()
                if self._username:
                    smtp.login(self._username, self._password or "")
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as err:
            codes = [code for code, _ in err.recipients.values()]
            self._raise_for_code(min(codes) if codes else 550, where, err)
        except smtplib.SMTPResponseException as err:
            self._raise_for_code(err.smtp_code, where, err)
        except smtplib.SMTPServerDisconnected as err:
            raise PartnerUnreachable(f"{where}: {type(err).__name__}", partner=self.partner) from err
        except smtplib.SMTPException as err:
            raise PartnerFailed(f"{where}: {type(err).__name__}", partner=self.partner) from err
        except TimeoutError as err:
            raise PartnerTimeout(f"{where}: no answer within {self.timeout:g} s", partner=self.partner) from err
        except OSError as err:
            raise PartnerUnreachable(f"{where}: {type(err).__name__}", partner=self.partner) from err

    def _raise_for_code(self, code: int, where: str, err: Exception) -> None:
        # 5xx is permanent ("your request is wrong": a refused address or sender, bad
        # credentials); 4xx is transient (greylisting, a full queue).
        if code >= 500:
            raise RequestRejected(f"{where}: refused with {code}", partner=self.partner, status=code) from err
        raise PartnerFailed(f"{where}: {code}, try again later", partner=self.partner, status=code) from err


LEVEL_SUBJECT = {
    EscalationLevel.REMINDER: "Herinnering",
    EscalationLevel.SUPERVISOR: "Te laat, naar de leidinggevende",
    EscalationLevel.COORDINATOR: "Te laat, naar de coördinator",
}


def mail_address(notification: Notification, domain: str) -> str:
    """Where a notification goes: the assignee, the team's mailbox, the team's supervisor
    or the municipality's coordinator nazorg."""
    role = notification.recipient_role
    if role == "assignee" and notification.assignee:
        return f"{notification.assignee}@{domain}"
    if role == "supervisor":
        return f"supervisor.{notification.team}@{domain}"
    if role == "coordinator":
        return f"coordinator.{notification.municipality}@{domain}"
    return f"{notification.team}@{domain}"


def task_mail(notification: Notification, *, domain: str, api_url: str, sent_at: datetime | None = None) -> MailMessage:
    due = notification.due.date().isoformat() if notification.due else "zonder datum"
    subject = f"{LEVEL_SUBJECT.get(notification.level, 'Melding')}: {notification.task_key} ({notification.case_id})"
    body = "\n".join(
        [
            f"Taak: {notification.task_key}",
            f"Casus: {notification.case_id}",
            f"Uiterlijk: {due}",
            f"Niveau: {notification.level.value}",
            f"Team: {notification.team}",
            "",
            f"De casus: {api_url}/v1/cases/{notification.case_id}",
        ]
    )
    digest = hashlib.sha256(notification.notification_id.encode()).hexdigest()[:32]
    return MailMessage(
        to=[mail_address(notification, domain)],
        subject=subject,
        body=body + "\n",
        message_id=f"{digest}@reentry",
        sent_at=sent_at,
    )


# ---------------------------------------------------------------------------
# Open Notificaties


class OpenNotification(BaseModel):
    """A message in the Open Notificaties shape (the Dutch field names on the wire)."""

    model_config = ConfigDict(populate_by_name=True)

    channel: str = Field(alias="kanaal")
    main_object: str = Field(alias="hoofdObject")
    resource: str
    resource_url: str = Field(alias="resourceUrl")
    action: str = Field(alias="actie")
    created_at: datetime = Field(alias="aanmaakdatum")
    attributes: dict[str, str] = Field(default_factory=dict, alias="kenmerken")


TASKS_CHANNEL = "reentry-taken"
CASES_CHANNEL = "reentry-casussen"


def task_notification(notification: Notification, *, api_url: str, created_at: datetime) -> OpenNotification:
    case = f"{api_url}/v1/cases/{notification.case_id}"
    return OpenNotification(
        channel=TASKS_CHANNEL,
        main_object=case,
        resource="task",
        resource_url=f"{case}/tasks/{notification.task_key}",
        action="reminder" if notification.level == EscalationLevel.REMINDER else "escalated",
        created_at=created_at,
        attributes={
            "case_id": notification.case_id,
            "task_key": notification.task_key,
            "level": notification.level.value,
        },
    )


def case_closed_notification(notice: CaseClosedNotice, *, api_url: str) -> OpenNotification:
    case = f"{api_url}/v1/cases/{notice.case_id}"
    return OpenNotification(
        channel=CASES_CHANNEL,
        main_object=case,
        resource="case",
        resource_url=case,
        action="closed",
        created_at=notice.closed_at,
        # Not the reason: "deceased" or "re_detained" says something about a person.
        attributes={"case_id": notice.case_id},
    )


class OpenNotificatiesClient(PartnerClient):
    partner = "notifications"

    async def publish(self, notification: OpenNotification) -> None:
        await self._call("POST", "notificaties", None, json=notification.model_dump(mode="json", by_alias=True))


# ---------------------------------------------------------------------------
# The activities


class NotificationDeliveryActivities:
    """Delivers reminders and escalations: one activity per channel, so a mail server
    that is down does not send the webhook again, nor the other way round."""

    def __init__(self, mail: MailSender, webhooks: OpenNotificatiesClient, *, mail_domain: str, api_url: str) -> None:
        self._mail, self._webhooks = mail, webhooks
        self._mail_domain, self._api_url = mail_domain, api_url.rstrip("/")

    @activity.defn
    async def mail_task_notification(self, notification: Notification) -> None:
        """Mails a reminder or escalation to whoever it is for (no personal data)."""
        message = task_mail(
            notification, domain=self._mail_domain, api_url=self._api_url, sent_at=activity.info().scheduled_time
        )
        with as_activity_errors():
            await self._mail.send(message)
        ESCALATIONS_SENT.labels(notification.municipality, notification.level.value, "mail").inc()

    @activity.defn
    async def publish_task_notification(self, notification: Notification) -> None:
        """Publishes a reminder or escalation to Open Notificaties (no personal data)."""
        message = task_notification(notification, api_url=self._api_url, created_at=activity.info().scheduled_time)
        with as_activity_errors():
            await self._webhooks.publish(message)
        ESCALATIONS_SENT.labels(notification.municipality, notification.level.value, "open_notificaties").inc()

    @activity.defn
    async def publish_case_closed(self, notice: CaseClosedNotice) -> None:
        """Publishes that a case closed, and why, to Open Notificaties."""
        with as_activity_errors():
            await self._webhooks.publish(case_closed_notification(notice, api_url=self._api_url))

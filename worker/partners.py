"""The partner activities of a worker, their clients made from the settings."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from opentelemetry.trace import TracerProvider

from activities.partners import (
    CivilAffairsActivities,
    CivilAffairsClient,
    IncomeActivities,
    IncomeClient,
    MailSender,
    MessageBoxActivities,
    MessageBoxClient,
    NotificationDeliveryActivities,
    OpenNotificatiesClient,
    PopulationRegisterActivities,
    PopulationRegisterClient,
    ProbationActivities,
    ProbationClient,
)
from core.settings import Settings


class PartnerActivities(list[Callable[..., Any]]):
    """The partner activities to register, and the delivery of reminders and escalations
    among them (which the case's ``send_notification`` uses)."""

    delivery: NotificationDeliveryActivities


@contextlib.asynccontextmanager
async def partner_activities(
    settings: Settings, tracer_provider: TracerProvider | None = None
) -> AsyncIterator[PartnerActivities]:
    """Every partner activity, bound to its client; the clients' connections are closed after.
    With ``tracer_provider``, every HTTP call to a partner is a span of the activity's trace."""
    timeout = settings.partner_timeout
    async with contextlib.AsyncExitStack() as stack:

        async def connect(client: type[Any], partner: str) -> Any:
            return await stack.enter_async_context(
                client.connect(settings.partner_url(partner), timeout=timeout, tracer_provider=tracer_provider)
            )

        message_box = MessageBoxActivities(await connect(MessageBoxClient, "message_box"))
        population = PopulationRegisterActivities(await connect(PopulationRegisterClient, "population_register"))
        income = IncomeActivities(await connect(IncomeClient, "income"))
        civil_affairs = CivilAffairsActivities(await connect(CivilAffairsClient, "civil_affairs"))
        probation = ProbationActivities(await connect(ProbationClient, "probation"))
        mail = MailSender(
            *settings.smtp_address,
            sender=settings.mail_from,
            timeout=timeout,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        )
        delivery = NotificationDeliveryActivities(
            mail,
            await connect(OpenNotificatiesClient, "notifications"),
            mail_domain=settings.mail_domain,
            api_url=settings.api_url,
        )
        activities = PartnerActivities(
            [
                message_box.fetch_justice_messages,
                population.check_registration,
                income.submit_benefit_application,
                income.read_benefit_application,
                civil_affairs.book_id_appointment,
                civil_affairs.read_id_appointment,
                probation.read_probation_advice,
                probation.read_mayoral_advice,
                delivery.mail_task_notification,
                delivery.publish_task_notification,
                delivery.publish_case_closed,
            ]
        )
        activities.delivery = delivery
        yield activities

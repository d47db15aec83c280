"""What the activities count: every failed partner call by partner and kind, every
reminder and escalation delivered by municipality, level and channel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import NotificationActivities
from activities.partners import PopulationRegisterClient, ProbationClient
from activities.partners.population_register import PopulationRegisterActivities, RegistrationCheck
from activities.partners.probation import ProbationActivities, ProbationQuery
from domain.models import EscalationLevel
from tests.activities.test_delivery import activities as delivery
from tests.activities.test_delivery import notification
from tests.helpers import next_bsn
from tests.partners.simulator import set_faults

Connect = Callable[..., Any]


def count(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_every_failed_partner_call_is_counted_by_partner_and_kind(sim: httpx.AsyncClient, connect: Connect):
    errors = "reentry_partner_call_errors_total"
    failed_before = count(errors, partner="population_register", kind="PartnerFailed")
    timeouts_before = count(errors, partner="probation", kind="PartnerTimeout")
    await set_faults(sim, population_register={"error_rate": 1}, probation={"latency": {"fixed": 2}})
    register = PopulationRegisterActivities(connect(PopulationRegisterClient))
    probation = ProbationActivities(connect(ProbationClient, timeout=0.1))
    for _ in range(2):
        with pytest.raises(ApplicationError, match="population_register"):
            await ActivityEnvironment().run(
                register.check_registration, RegistrationCheck(bsn=next_bsn(), municipality="0855")
            )
    with pytest.raises(ApplicationError):
        await ActivityEnvironment().run(probation.read_probation_advice, ProbationQuery(detention_id="DJI-M-1"))
    await set_faults(sim)
    await ActivityEnvironment().run(register.check_registration, RegistrationCheck(bsn=next_bsn(), municipality="0855"))

    # Each failed attempt once; the call that succeeded not at all.
    assert count(errors, partner="population_register", kind="PartnerFailed") == failed_before + 2
    assert count(errors, partner="probation", kind="PartnerTimeout") == timeouts_before + 1


async def test_reminders_and_escalations_are_counted_per_channel(sim: httpx.AsyncClient, connect: Connect):
    sent = "reentry_escalations_sent_total"
    logged = count(sent, municipality="0855", level="coordinator", channel="log")
    published = count(sent, municipality="0855", level="supervisor", channel="open_notificaties")

    await ActivityEnvironment().run(
        NotificationActivities().send_notification, notification(EscalationLevel.COORDINATOR)
    )
    await ActivityEnvironment().run(delivery(0, connect).publish_task_notification, notification())

    assert count(sent, municipality="0855", level="coordinator", channel="log") == logged + 1
    assert count(sent, municipality="0855", level="supervisor", channel="open_notificaties") == published + 1

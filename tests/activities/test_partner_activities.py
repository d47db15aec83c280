"""The partner activities as Temporal runs them: the errors it retries or not, the long
poll's heartbeats, and messages that cannot be understood kept aside."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.partners import (
    CivilAffairsClient,
    IncomeClient,
    MessageBoxClient,
    PopulationRegisterClient,
)
from activities.partners.civil_affairs import CivilAffairsActivities, IdAppointmentRequest
from activities.partners.errors import NON_RETRYABLE_ERROR_TYPES
from activities.partners.income import BenefitApplicationQuery, BenefitApplicationRequest, IncomeActivities
from activities.partners.message_box import DetentionStarted, FetchMessages, MessageBoxActivities
from activities.partners.options import INCOME_SUBMIT, MESSAGE_BOX_POLL
from activities.partners.population_register import PopulationRegisterActivities, RegistrationCheck
from tests.helpers import next_bsn
from tests.partners.simulator import set_faults

Connect = Callable[..., Any]


def notice(detention_id: str) -> dict:
    return {
        "detention_id": detention_id,
        "person": {"bsn": next_bsn(), "given_names": "Priya", "surname": "Ramdin", "birth_date": "1988-11-20"},
        "municipality": "0772",
        "prison": "PI-VUGHT",
        "detention_start": "2027-01-04",
        "expected_release": "2027-04-12",
        "offence_category": "drugs",
        "conviction_final": False,
    }


async def test_a_transient_failure_is_a_retryable_application_error(sim: httpx.AsyncClient, connect: Connect):
    await set_faults(sim, income={"error_rate": 1})
    activities = IncomeActivities(connect(IncomeClient))
    request = BenefitApplicationRequest(reference="case-A1/benefit_application", bsn=next_bsn(), municipality="0855")
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(activities.submit_benefit_application, request)
    assert raised.value.type == "PartnerFailed"
    assert not raised.value.non_retryable


async def test_a_malformed_answer_is_a_retryable_application_error(sim: httpx.AsyncClient, connect: Connect):
    activities = IncomeActivities(connect(IncomeClient))
    request = BenefitApplicationRequest(reference="case-A2/benefit_application", bsn=next_bsn(), municipality="0855")
    application = await ActivityEnvironment().run(activities.submit_benefit_application, request)
    await set_faults(sim, income={"malformed_rate": 1})
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(
            activities.read_benefit_application, BenefitApplicationQuery(application_id=application.id)
        )
    assert raised.value.type == "PartnerAnswerMalformed" and not raised.value.non_retryable


async def test_an_outage_tells_temporal_when_to_try_again(sim: httpx.AsyncClient, connect: Connect):
    outage = {"start": "2027-01-04T07:00:00Z", "end": "2027-01-04T08:05:00Z"}
    await set_faults(sim, population_register={"outages": [outage]})
    activities = PopulationRegisterActivities(connect(PopulationRegisterClient))
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(
            activities.check_registration, RegistrationCheck(bsn=next_bsn(), municipality="0855")
        )
    assert raised.value.type == "PartnerFailed"
    assert raised.value.next_retry_delay == timedelta(minutes=5)


async def test_a_rejected_request_is_not_retried(connect: Connect):
    activities = CivilAffairsActivities(connect(CivilAffairsClient))
    booking = IdAppointmentRequest(reference="case-A3/id_document", bsn=next_bsn(), municipality="0758")
    await ActivityEnvironment().run(activities.book_id_appointment, booking)
    other_person = booking.model_copy(update={"bsn": next_bsn()})
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(activities.book_id_appointment, other_person)
    assert raised.value.type == "PartnerRequestRejected" and raised.value.non_retryable
    assert raised.value.type in NON_RETRYABLE_ERROR_TYPES
    assert other_person.bsn not in raised.value.message and booking.bsn not in raised.value.message


async def test_a_person_registered_elsewhere_is_reported_as_such(sim: httpx.AsyncClient, connect: Connect):
    bsn = next_bsn()
    await sim.post("/_sim/population/registrations", json={"bsn": bsn, "municipality": "0758"})
    activities = PopulationRegisterActivities(connect(PopulationRegisterClient))
    registration = await ActivityEnvironment().run(
        activities.check_registration, RegistrationCheck(bsn=bsn, municipality="0855")
    )
    assert registration.status == "registered_elsewhere" and registration.municipality_name == "Breda"


async def test_the_long_poll_heartbeats_while_the_box_holds_it(connect: Connect):
    env = ActivityEnvironment()
    beats: list[tuple] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    activities = MessageBoxActivities(connect(MessageBoxClient), heartbeat_every=0.05)
    fetched = await env.run(activities.fetch_justice_messages, FetchMessages(cursor=None, wait_seconds=0.3))
    assert fetched.messages == [] and fetched.next_cursor is None
    assert len(beats) >= 4
    assert set(beats) == {(None,)}  # the cursor it polls from


async def test_the_long_poll_answers_with_a_message_that_arrives_meanwhile(sim: httpx.AsyncClient, connect: Connect):
    env = ActivityEnvironment()
    beats: list[tuple] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    activities = MessageBoxActivities(connect(MessageBoxClient, timeout=1), heartbeat_every=0.05)
    poll = asyncio.create_task(env.run(activities.fetch_justice_messages, FetchMessages(wait_seconds=10)))
    await asyncio.sleep(0.2)
    await sim.post("/_sim/messagebox/messages", json={"type": "detention_started", "content": notice("DJI-HB-1")})
    fetched = await asyncio.wait_for(poll, 2)
    (message,) = fetched.messages
    assert isinstance(message, DetentionStarted) and message.content.detention_id == "DJI-HB-1"
    assert len(beats) >= 2


async def test_a_cancelled_long_poll_stops_at_once(connect: Connect):
    env = ActivityEnvironment()
    activities = MessageBoxActivities(connect(MessageBoxClient, timeout=1), heartbeat_every=0.05)
    poll = asyncio.create_task(env.run(activities.fetch_justice_messages, FetchMessages(wait_seconds=10)))
    await asyncio.sleep(0.1)
    env.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(poll, 1)


async def test_messages_that_cannot_be_understood_are_kept_aside_with_the_reason(
    sim: httpx.AsyncClient, connect: Connect
):
    ended = {"detention_id": "DJI-OK-1", "release_date": "2027-04-12"}
    deliveries = [
        {"id": "RIB-OK-1", "type": "detention_started", "content": notice("DJI-OK-1")},
        {"id": "RIB-BAD-1", "type": "detention_started", "content": '{"detention_id": "DJI-BAD-1", "person": '},
        {"id": "RIB-BAD-2", "type": "risk_information", "content": {"detention_id": "DJI-BAD-2"}},
        {"id": "RIB-BAD-3", "type": "detention_started", "content": notice("DJI-BAD-3") | {"municipality": "Tilburg"}},
        {"id": "RIB-OK-2", "type": "detention_ended", "content": ended},
    ]
    for delivery in deliveries:
        assert (await sim.post("/_sim/messagebox/messages", json=delivery)).status_code == 201
    activities = MessageBoxActivities(connect(MessageBoxClient))
    fetched = await ActivityEnvironment().run(activities.fetch_justice_messages, FetchMessages(wait_seconds=0))
    assert [m.message_id for m in fetched.messages] == ["RIB-OK-1", "RIB-OK-2"]
    reasons = {u.message_id: u.reason for u in fetched.unreadable}
    assert reasons == {
        "RIB-BAD-1": "content is not valid JSON",
        "RIB-BAD-2": "content not as agreed: assessed_on: missing; recidivism: missing; harm: missing; "
        "conviction_final: missing; offence_category: missing",
        "RIB-BAD-3": "content not as agreed: municipality: string_pattern_mismatch",
    }
    # Polled again from the start (a retried poll): the same messages, the same reasons.
    again = await ActivityEnvironment().run(activities.fetch_justice_messages, FetchMessages(wait_seconds=0))
    assert again == fetched


def test_the_recommended_options_fit_the_client_and_the_long_poll():
    assert MESSAGE_BOX_POLL.heartbeat_timeout is not None
    assert MESSAGE_BOX_POLL.start_to_close_timeout > timedelta(seconds=20 + 10)  # wait + the call's own timeout
    kwargs = INCOME_SUBMIT.kwargs()
    assert set(kwargs) == {"start_to_close_timeout", "schedule_to_close_timeout", "retry_policy"}
    assert kwargs["retry_policy"].non_retryable_error_types == NON_RETRYABLE_ERROR_TYPES

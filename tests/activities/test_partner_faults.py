"""What a client raises when a partner misbehaves: transient failures are retryable, a
request the partner calls wrong is not, and the message says what happened without any
personal data."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from activities.partners import (
    CivilAffairsClient,
    IncomeClient,
    MalformedAnswer,
    NotFound,
    PartnerFailed,
    PartnerTimeout,
    PartnerUnavailable,
    PartnerUnreachable,
    PopulationRegisterClient,
    ProbationClient,
    RequestRejected,
)
from activities.partners.civil_affairs import IdAppointmentRequest
from activities.partners.income import BenefitApplicationRequest
from partners import Simulation
from tests.helpers import next_bsn
from tests.partners.simulator import set_faults

Connect = Callable[..., Any]


def application(reference: str, bsn: str | None = None) -> BenefitApplicationRequest:
    return BenefitApplicationRequest(reference=reference, bsn=bsn or next_bsn(), municipality="0855")


async def test_latency_beyond_the_timeout_is_a_retryable_timeout(sim: httpx.AsyncClient, connect: Connect):
    await set_faults(sim, probation={"latency": {"fixed": 5}})
    probation = connect(ProbationClient, timeout=0.2)
    started = time.monotonic()
    with pytest.raises(PartnerTimeout) as raised:
        await probation.read("DJI-T-1")
    assert time.monotonic() - started < 1
    assert raised.value.retryable
    assert str(raised.value) == "probation: no answer to GET detentions/DJI-T-1 within 0.2 s"


async def test_a_latency_spike_within_the_timeout_is_only_slow(sim: httpx.AsyncClient, connect: Connect):
    await set_faults(sim, probation={"latency": {"spike": 0.05, "spike_share": 1}})
    assert (await connect(ProbationClient, timeout=1).read("DJI-T-2")).detention_id == "DJI-T-2"


async def test_a_hanging_answer_times_out_and_the_retry_finds_what_the_first_attempt_made(
    sim: httpx.AsyncClient, simulation: Simulation, connect: Connect
):
    await set_faults(sim, income={"timeout_rate": 1, "hang": 5})
    income = connect(IncomeClient, timeout=0.2)
    request = application("case-DJI-T-3/benefit_application")
    with pytest.raises(PartnerTimeout):
        await income.submit(request)
    await set_faults(sim)
    retried = await income.submit(request)
    assert list(simulation.income.applications) == [retried.id]  # one application, not two


async def test_server_errors_are_retryable_and_change_nothing(
    sim: httpx.AsyncClient, simulation: Simulation, connect: Connect
):
    await set_faults(sim, income={"error_rate": 1})
    with pytest.raises(PartnerFailed) as raised:
        await connect(IncomeClient).submit(application("case-DJI-T-4/benefit_application"))
    assert raised.value.retryable and raised.value.status in (500, 502, 503)
    assert str(raised.value).startswith(f"income: {raised.value.status} to POST applications")
    assert simulation.income.applications == {}


async def test_an_outage_is_retryable_after_the_time_the_partner_gives(sim: httpx.AsyncClient, connect: Connect):
    outage = {"start": "2027-01-04T07:00:00Z", "end": "2027-01-04T08:10:00Z"}
    await set_faults(sim, civil_affairs={"outages": [outage]})
    civil_affairs = connect(CivilAffairsClient)
    request = IdAppointmentRequest(reference="case-DJI-T-5/id", bsn=next_bsn(), municipality="0855")
    with pytest.raises(PartnerFailed) as raised:
        await civil_affairs.book(request)
    assert raised.value.status == 503 and raised.value.retry_after == timedelta(minutes=10)
    await sim.post("/_sim/clock", json={"advance": "PT10M"})
    assert (await civil_affairs.book(request)).reference == "case-DJI-T-5/id"


async def test_a_blackhole_outage_is_a_timeout(sim: httpx.AsyncClient, connect: Connect):
    outage = {"start": "2027-01-04T07:00:00Z", "end": "2027-01-04T09:00:00Z", "mode": "blackhole"}
    await set_faults(sim, population_register={"outages": [outage]})
    with pytest.raises(PartnerTimeout):
        await connect(PopulationRegisterClient, timeout=0.2).find(next_bsn())


async def test_a_malformed_answer_is_retryable_and_says_what_was_wrong(sim: httpx.AsyncClient, connect: Connect):
    await set_faults(sim, population_register={"malformed_rate": 1})
    register = connect(PopulationRegisterClient)
    seen = set()
    for _ in range(8):
        bsn = next_bsn()
        with pytest.raises(MalformedAnswer) as raised:
            await register.find(bsn)
        assert raised.value.retryable
        assert bsn not in str(raised.value)
        seen.add(str(raised.value))
    assert seen == {
        "population_register: the answer to POST personen is not JSON",
        "population_register: the answer to POST personen is not in the agreed shape: type: missing; personen: missing",
    }


async def test_a_request_the_partner_calls_wrong_is_not_retryable(sim: httpx.AsyncClient, connect: Connect):
    income = connect(IncomeClient)
    await income.submit(application("case-DJI-T-6/benefit_application"))
    with pytest.raises(RequestRejected) as conflict:
        await income.submit(application("case-DJI-T-6/benefit_application"))  # the reference, another person
    assert not conflict.value.retryable and conflict.value.status == 409
    with pytest.raises(NotFound) as unknown:
        await income.read("INK-2027-999999")
    assert not unknown.value.retryable
    assert str(unknown.value) == "income: 404 to GET applications/INK-2027-999999"


async def test_a_partner_that_cannot_be_reached_is_retryable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nobody listens there any more: the connection is refused.
    async with ProbationClient.connect(f"http://127.0.0.1:{port}/probation", timeout=2) as probation:
        with pytest.raises(PartnerUnreachable) as raised:
            await probation.read("DJI-T-7")
    assert raised.value.retryable
    assert str(raised.value) == "probation: GET detentions/DJI-T-7 failed: ConnectError"


@pytest.mark.parametrize(
    ("status", "error", "retryable"),
    [
        (400, RequestRejected, False),
        (401, RequestRejected, False),
        (403, RequestRejected, False),
        (404, NotFound, False),
        (408, PartnerFailed, True),
        (409, RequestRejected, False),
        (422, RequestRejected, False),
        (429, PartnerFailed, True),
        (500, PartnerFailed, True),
        (502, PartnerFailed, True),
        (503, PartnerFailed, True),
        (504, PartnerFailed, True),
        (302, MalformedAnswer, True),
    ],
)
async def test_what_each_status_means(status: int, error: type[Exception], retryable: bool):
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers={"retry-after": "7"}, json={"invalidParams": [{"name": "bsn"}]})

    async with ProbationClient.connect("http://probation.test", transport=httpx.MockTransport(answer)) as client:
        with pytest.raises(error) as raised:
            await client.read("DJI-S-1")
    assert type(raised.value) is error
    assert raised.value.retryable is retryable
    assert isinstance(raised.value, PartnerUnavailable) is retryable
    if status in (429, 503):
        assert raised.value.retry_after == timedelta(seconds=7)
    if status in (400, 422):
        assert str(raised.value).endswith("(wrong: bsn)")

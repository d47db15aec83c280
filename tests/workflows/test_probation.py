"""The plan task is created: the case asks probation (3RO) for its advice, records it
once issued, and survives probation's faults. Under the time-skipping server, against
the simulator, whose clock follows the test server's.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from activities.partners import ProbationActivities, ProbationClient
from api.schemas import CaseView
from core.settings import SIMULATOR_PATHS
from domain.follow_up import FollowUpFailure
from domain.models import CaseState, Phase, TaskStatus
from partners import Simulation, SimulatorConfig
from partners.config import FaultPlan
from tests.helpers import STAND_INS, advice_requested, notice
from tests.workflows.conftest import StartCase
from tests.workflows.driver import CaseDriver
from worker.temporal import build_worker

PROBATION_URL = f"http://partners.test{SIMULATOR_PATHS['probation']}"
ADVICE_AFTER = SimulatorConfig().probation.advice_after
PLAN = "reintegration_plan"


@pytest.fixture
async def task_queue(
    env: WorkflowEnvironment, workflow_engine: Engine, simulated: httpx.AsyncBaseTransport
) -> AsyncIterator[str]:
    """A worker whose probation is the simulator (the other tests stand one in)."""
    queue = f"cases-{uuid.uuid4()}"
    async with ProbationClient.connect(PROBATION_URL, timeout=1.0, transport=simulated) as client:
        partners = [a for a in STAND_INS if a is not advice_requested]
        partners.append(ProbationActivities(client).read_probation_advice)
        async with build_worker(env.client, queue, workflow_engine, partners):
            yield queue


def set_faults(simulation: Simulation, **faults: Any) -> None:
    simulation.faults.replace(FaultPlan.model_validate({"probation": faults}), seed=simulation.seed)


def actions(state: CaseState) -> list[str]:
    return [h.action for h in state.history]


async def started(cases: StartCase, simulation: Simulation) -> CaseDriver:
    """A case long enough for a D&R plan: the plan task is created with the case."""
    return await cases(notice(simulation.today(), release_in=timedelta(weeks=30)))


async def finished(case: CaseDriver) -> CaseState:
    return await case.eventually(
        lambda s: s.probation_advice is not None and not s.probation_advice.running, timeout=30
    )


async def test_the_issued_advice_is_recorded(env, cases: StartCase, simulation, simulated):
    """Asked at the start of the case; three weeks later the advice is issued and the case
    records its kind, the supervision status and the special conditions (codes only). The
    plan stays the caseworker's."""
    case = await started(cases, simulation)
    today = await case.today()
    state = await case.eventually(lambda s: s.probation_advice is not None and s.probation_advice.requested_on)
    assert state.probation_advice.task == PLAN and state.probation_advice.requested_on == today
    assert state.probation_advice.kind is None

    await case.sleep_until(today + ADVICE_AFTER - timedelta(days=2))
    assert (await case.state()).probation_advice.running, "not issued yet"
    await case.sleep_until(today + ADVICE_AFTER + timedelta(days=4))
    state = await finished(case)
    advice = state.probation_advice
    assert advice.failure is None and advice.issued_on == today + ADVICE_AFTER
    assert advice.kind in {"supervision", "programme", "none"}
    assert advice.supervision == ("none" if advice.kind == "none" else "planned")
    assert advice.kind == "none" or advice.special_conditions
    received = [h for h in state.history if h.action == "probation_advice_received"]
    assert len(received) == 1 and received[0].actor == "probation" and received[0].detail is None
    assert state.task(PLAN).status == TaskStatus.OPEN, "the plan is the caseworker's"

    reads = simulated.requests
    await case.sleep_until(await case.today() + timedelta(days=7))
    assert simulated.requests == reads, "no more reads"

    view = CaseView.from_state(state).model_dump(mode="json")
    assert view["probation_advice"]["kind"] == advice.kind
    assert view["probation_advice"]["special_conditions"] == advice.special_conditions
    history = (await case.handle.fetch_history()).to_json()
    assert case.notice.person.bsn not in history, "the BSN only encrypted"
    await case.keep_history("probation_advice_received")


async def test_probation_down_past_the_bound_says_so_in_the_timeline(env, cases: StartCase, simulation, simulated):
    """Down for two weeks: the case goes on (updates answered); after the bound the timeline
    says so, and no task is added: the caseworker asks probation at the plan meeting."""
    now = await env.get_current_time()
    set_faults(simulation, outages=[{"start": now - timedelta(minutes=1), "end": now + timedelta(days=14)}])
    case = await started(cases, simulation)
    await case.sleep_until(await case.today() + timedelta(days=1))
    await case.complete("contact_prison", {"kind": "contact", "contacted_on": str(await case.today())})
    state = await case.state()
    assert state.probation_advice.running and state.probation_advice.kind is None
    assert simulated.requests >= 2, "retried with backoff"
    tasks = {t.key for t in state.tasks}

    await case.sleep_until(await case.today() + timedelta(days=10))
    state = await finished(case)
    assert state.probation_advice.failure == FollowUpFailure.READ_UNAVAILABLE
    assert state.probation_advice.kind is None
    failed = next(h for h in state.history if h.action == "probation_advice_failed")
    assert failed.detail == "probation unavailable: ask probation for the advice directly"
    assert {t.key for t in state.tasks} == tasks, "no task"
    assert state.task(PLAN).status == TaskStatus.OPEN and state.phase != Phase.CLOSED


async def test_errors_change_nothing_in_the_end(env, cases: StartCase, simulation):
    """A fifth of the requests fail: the same end state as without faults."""
    set_faults(simulation, error_rate=0.2)
    case = await started(cases, simulation)
    today = await case.today()
    await case.sleep_until(today + ADVICE_AFTER + timedelta(days=4))
    state = await finished(case)
    advice = state.probation_advice
    assert advice.failure is None and advice.issued_on == today + ADVICE_AFTER
    assert advice.kind is not None
    assert actions(state).count("probation_advice_received") == 1
    kinds = {kind.removeprefix("probation.") for kind in simulation.faults.injected}
    assert any(kind.startswith("error") for kind in kinds), kinds

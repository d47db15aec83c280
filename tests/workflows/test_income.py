"""The case submits the benefit application to the income system and follows it until it
is decided, and survives every fault of the income system: under the time-skipping
server, against the simulator, whose clock follows the test server's.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import time, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from activities.partners import IncomeActivities, IncomeClient
from core.settings import SIMULATOR_PATHS
from domain.follow_up import FollowUpFailure, next_working_day_at
from domain.models import LOCAL_TIME, BasicCondition, CaseState, TaskStatus
from domain.retention import EraseOffenceInput
from partners import SimClock, Simulation, SimulatorConfig
from partners.config import FaultPlan
from tests.helpers import advice_requested, notice, registered_here
from tests.workflows.conftest import StartCase
from tests.workflows.driver import CaseDriver
from worker.temporal import build_worker
from workflows.case import CaseWorkflow

INCOME_URL = f"http://partners.test{SIMULATOR_PATHS['income']}"
MANUAL = "check_benefit_application"
DECISION_AFTER = SimulatorConfig().income.decision_after
IN_REVIEW_AFTER = SimulatorConfig().income.in_review_after


@pytest.fixture
async def task_queue(
    env: WorkflowEnvironment, workflow_engine: Engine, simulated: httpx.AsyncBaseTransport
) -> AsyncIterator[str]:
    """A worker whose income system is the simulator (the other tests stand one in)."""
    queue = f"cases-{uuid.uuid4()}"
    async with IncomeClient.connect(INCOME_URL, timeout=1.0, transport=simulated) as client:
        activities = IncomeActivities(client)
        partners = [
            registered_here,
            advice_requested,
            activities.submit_benefit_application,
            activities.read_benefit_application,
        ]
        async with build_worker(env.client, queue, workflow_engine, partners):
            yield queue


def set_faults(simulation: Simulation, **faults: Any) -> None:
    simulation.faults.replace(FaultPlan.model_validate({"income": faults}), seed=simulation.seed)


def actions(state: CaseState) -> list[str]:
    return [h.action for h in state.history]


async def applied(cases: StartCase, simulation: Simulation) -> CaseDriver:
    """A case whose screening says only income needs action, with the application completed
    by the caseworker on the day after the notice."""
    case = await cases(notice(simulation.today(), release_in=timedelta(weeks=20)))
    conditions = {c.value: "in_order" for c in BasicCondition} | {"income": "needs_action"}
    await case.sleep_until(await case.today() + timedelta(days=1))
    await case.event({"type": "screening_recorded", "conditions": conditions}, actor="anna")
    today = await case.today()
    await case.complete("benefit_application", {"kind": "benefit_application", "submitted_on": str(today)})
    return case


async def submitted(case: CaseDriver) -> CaseState:
    return await case.eventually(lambda s: s.benefit_follow_up is not None and s.benefit_follow_up.application_id)


async def finished(case: CaseDriver) -> CaseState:
    return await case.eventually(
        lambda s: s.benefit_follow_up is not None and not s.benefit_follow_up.running, timeout=30
    )


async def test_the_decision_completes_the_task(env, cases: StartCase, simulation, simulated):
    """Decided after six weeks: the decision task is completed by the income system, with its
    decision; the clocks stay where the caseworker's date put them."""
    case = await applied(cases, simulation)
    state = await submitted(case)
    follow = state.benefit_follow_up
    assert follow.reference == f"{case.handle.id}/benefit_application"
    [application] = simulation.income.applications.values()
    assert application.id == follow.application_id and application.municipality == "0855"
    due = state.task("benefit_decision").due

    # The first working-day read after the application went into review says so.
    in_review = state.benefit_follow_up.started_at + IN_REVIEW_AFTER
    await case.sleep_until(next_working_day_at(in_review, time(8, 0), LOCAL_TIME) + timedelta(hours=1))
    assert (await case.state()).benefit_follow_up.status == "in_review"
    await case.sleep_until(await case.today() + DECISION_AFTER + timedelta(days=3))
    state = await finished(case)
    decision = state.task("benefit_decision")
    expected = "refused" if application.refused else "granted"
    assert decision.status == TaskStatus.COMPLETED and decision.completed_by == "income_system"
    assert decision.outcome.decision == expected == state.benefit_follow_up.decision
    assert decision.due == due, "the decision clock is the caseworker's date"
    assert state.task(MANUAL) is None
    assert len(simulation.income.applications) == 1
    assert actions(state).count("benefit_application_received") == 1
    history = (await case.handle.fetch_history()).to_json()
    assert case.notice.person.bsn not in history, "the BSN only encrypted"
    await case.keep_history("income_decided")


async def test_a_caseworker_who_records_the_decision_first_wins(env, cases: StartCase, simulation, simulated):
    case = await applied(cases, simulation)
    await submitted(case)
    await case.sleep_until(await case.today() + timedelta(weeks=2))
    decided = await case.today()
    await case.complete(
        "benefit_decision", {"kind": "benefit_decision", "decision": "granted", "decided_on": str(decided)}
    )
    state = await finished(case)
    assert state.benefit_follow_up.decision is None
    ended = next(h for h in state.history if h.action == "benefit_follow_up_ended")
    assert ended.detail == "decision completed"
    reads = simulated.requests
    await case.sleep_until(await case.today() + DECISION_AFTER)
    state = await case.state()
    assert simulated.requests == reads, "no more reads"
    decision = state.task("benefit_decision")
    assert decision.completed_by == "anna" and decision.outcome.decided_on == decided


async def test_an_income_system_down_at_submission_becomes_a_task(env, cases: StartCase, simulation, simulated):
    """Down for a week: the case goes on (updates answered), and after the bound a caseworker
    gets the task to check the application by hand."""
    now = await env.get_current_time()
    set_faults(simulation, outages=[{"start": now - timedelta(minutes=1), "end": now + timedelta(days=7)}])
    case = await applied(cases, simulation)
    await case.sleep_until(await case.today() + timedelta(days=1))
    await case.complete("contact_prison", {"kind": "contact", "contacted_on": str(await case.today())})
    state = await case.state()
    assert state.benefit_follow_up.running and state.benefit_follow_up.application_id is None
    assert simulated.requests >= 2, "retried with backoff"

    await case.sleep_until(await case.today() + timedelta(days=3))
    state = await finished(case)
    assert state.benefit_follow_up.failure == FollowUpFailure.REQUEST_UNAVAILABLE
    failed = next(h for h in state.history if h.action == "benefit_follow_up_failed")
    assert failed.detail == "income system unavailable: submit the application by hand"
    assert state.task(MANUAL).status == TaskStatus.OPEN
    assert state.task("benefit_decision").status == TaskStatus.OPEN, "still the caseworker's"
    assert not simulation.income.applications
    await case.keep_history("income_unavailable")


async def test_an_income_system_down_while_followed_becomes_a_task(env, cases: StartCase, simulation, simulated):
    case = await applied(cases, simulation)
    await submitted(case)
    now = await env.get_current_time()
    set_faults(simulation, outages=[{"start": now + timedelta(days=2), "end": now + timedelta(days=12)}])
    await case.sleep_until(await case.today() + timedelta(days=10))
    state = await finished(case)
    assert state.benefit_follow_up.failure == FollowUpFailure.READ_UNAVAILABLE
    failed = next(h for h in state.history if h.action == "benefit_follow_up_failed")
    assert failed.detail == "income system unavailable: follow the decision by hand"
    assert state.task(MANUAL).status == TaskStatus.OPEN


async def test_a_refused_submission_becomes_a_task_without_retries(env, cases: StartCase, workflow_engine):
    asked: list[httpx.Request] = []

    def refuses(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(422, json={"title": "Unprocessable", "invalidParams": [{"name": "bsn"}]})

    queue = f"cases-{uuid.uuid4()}"
    async with IncomeClient.connect(INCOME_URL, transport=httpx.MockTransport(refuses)) as client:
        activities = IncomeActivities(client)
        partners = [
            registered_here,
            advice_requested,
            activities.submit_benefit_application,
            activities.read_benefit_application,
        ]
        async with build_worker(env.client, queue, workflow_engine, partners):
            simulation = Simulation(SimulatorConfig(), SimClock(await env.get_current_time(), frozen=True))

            async def start(n, policy=None):
                return await CaseDriver.start(env, queue, n, policy)

            case = await applied(start, simulation)
            state = await finished(case)
            assert state.benefit_follow_up.failure == FollowUpFailure.REQUEST_REJECTED
            assert len(asked) == 1
            assert state.task(MANUAL).status == TaskStatus.OPEN
            await case.event({"type": "closed", "note": "test finished"}, actor="test")
            await case.handle.result()


FAULTS = {
    "errors": ({"error_rate": 0.3}, "error"),
    "malformed answers": ({"malformed_rate": 0.3}, "malformed_"),
    "timeouts": ({"timeout_rate": 0.2, "hang": 1.5}, "hang"),
    "down for two days": (None, None),
}


@pytest.mark.parametrize(("faults", "injected"), FAULTS.values(), ids=FAULTS.keys())
async def test_faults_change_nothing_in_the_end(env, cases: StartCase, simulation, faults, injected):
    """Errors, garbled and hanging answers, an outage shorter than the bound: the same end
    state as without faults, one application, no task for a caseworker."""
    now = await env.get_current_time()
    if faults is None:
        set_faults(simulation, outages=[{"start": now - timedelta(minutes=1), "end": now + timedelta(days=2)}])
    else:
        set_faults(simulation, **faults)
    case = await applied(cases, simulation)
    await case.sleep_until(await case.today() + DECISION_AFTER + timedelta(days=4))
    state = await finished(case)
    assert state.benefit_follow_up.failure is None
    assert state.task("benefit_decision").completed_by == "income_system"
    assert state.task(MANUAL) is None
    assert len(simulation.income.applications) == 1
    if injected:
        kinds = {kind.removeprefix("income.") for kind in simulation.faults.injected}
        assert any(kind.startswith(injected) for kind in kinds), kinds


async def test_a_follow_up_at_continue_as_new_goes_on_in_the_next_run(env, cases: StartCase, simulation):
    case = await applied(cases, simulation)
    first = await submitted(case)
    first_run = (await case.handle.describe()).run_id
    await case.sleep_until(await case.today() + timedelta(days=3))
    erased = await case.handle.execute_update(CaseWorkflow.erase_offence, EraseOffenceInput(actor="retention"))
    assert erased.continuing_as_new
    deadline = asyncio.get_running_loop().time() + 10
    while (await case.handle.describe()).run_id == first_run:
        assert asyncio.get_running_loop().time() < deadline, "the case did not continue as new"
        await asyncio.sleep(0.05)
    state = await case.state()
    assert state.benefit_follow_up.running
    await case.sleep_until(await case.today() + DECISION_AFTER)
    state = await finished(case)
    assert state.benefit_follow_up.application_id == first.benefit_follow_up.application_id
    assert state.task("benefit_decision").completed_by == "income_system"
    assert len(simulation.income.applications) == 1


async def test_withdrawn_consent_stops_the_follow_up_and_forgets_it(env, cases: StartCase, simulation, simulated):
    case = await applied(cases, simulation)
    await submitted(case)
    await case.sleep_until(await case.today() + timedelta(days=2))
    await case.event({"type": "consent_withdrawn", "condition": "income"}, actor="anna")
    state = await case.eventually(lambda s: s.benefit_follow_up is None)
    assert "benefit_follow_up_ended" in actions(state)
    reads = simulated.requests
    await case.sleep_until(await case.today() + timedelta(weeks=1))
    assert simulated.requests == reads

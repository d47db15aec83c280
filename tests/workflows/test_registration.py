"""The case asks the population register where the person is registered, and survives
every fault of the register: under the time-skipping server, against the simulator.

The simulator's clock follows the test server's (``FollowsTemporal``): an outage of two
days in simulated time lasts two days of skipped time here.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from activities.partners import PopulationRegisterActivities, PopulationRegisterClient
from core.settings import SIMULATOR_PATHS
from domain.follow_up import FollowUpFailure
from domain.models import BasicCondition, ClosedReason, Phase, TaskStatus, local_date
from domain.policy import load_policy
from domain.retention import EraseOffenceInput
from partners import Simulation
from partners.config import FaultPlan
from tests.helpers import advice_requested, notice
from tests.workflows.conftest import StartCase
from tests.workflows.driver import CaseDriver
from worker.temporal import build_worker
from workflows.case import CaseWorkflow

REGISTER_URL = f"http://partners.test{SIMULATOR_PATHS['population_register']}"
MANUAL = "check_registration_manually"
BOUND = load_policy().registration_check_within


@pytest.fixture
async def task_queue(
    env: WorkflowEnvironment, workflow_engine: Engine, simulated: httpx.AsyncBaseTransport
) -> AsyncIterator[str]:
    """A worker whose population register is the simulator (the other tests stand one in)."""
    queue = f"cases-{uuid.uuid4()}"
    async with (
        PopulationRegisterClient.connect(REGISTER_URL, timeout=1.0, transport=simulated) as client,
        build_worker(
            env.client,
            queue,
            workflow_engine,
            [PopulationRegisterActivities(client).check_registration, advice_requested],
        ),
    ):
        yield queue


def set_faults(simulation: Simulation, **faults: Any) -> None:
    simulation.faults.replace(FaultPlan.model_validate({"population_register": faults}), seed=simulation.seed)


def lives_in(simulation: Simulation, municipality: str, **kwargs: Any):
    """A notice for Tilburg of a person the register has in ``municipality`` (1999: RNI)."""
    n = notice(simulation.today(), **kwargs)
    simulation.population.register(n.person.bsn, municipality, simulation.today() - timedelta(days=400))
    return n


def actions(state) -> list[str]:
    return [h.action for h in state.history]


async def checked(case: CaseDriver):
    """The case once the register's check has finished (it runs beside the case)."""
    return await case.eventually(lambda s: s.registration is not None and not s.registration.running, timeout=30)


async def test_registered_here_is_confirmed(env, cases: StartCase, simulation):
    n = lives_in(simulation, "0855")
    case = await cases(n)
    state = await checked(case)
    assert state.registration.result.status == "registered_here"
    assert state.registration.result.address is not None and state.registration.result.address.place == "Tilburg"
    confirmed = next(h for h in state.history if h.action == "registration_confirmed")
    assert (confirmed.actor, confirmed.detail) == ("population_register", "0855")
    assert {t.key for t in state.tasks} == {"contact_prison", "screening", "reintegration_plan"}
    history = (await case.handle.fetch_history()).to_json()
    assert "check_registration" in history and n.person.bsn not in history, "the BSN only encrypted"
    await case.keep_history("registration_confirmed")


async def test_registered_elsewhere_hands_the_case_over(env, cases: StartCase, simulation):
    """Scenario 7, found by the register: a transfer task to Breda, then closed as moved."""
    case = await cases(lives_in(simulation, "0758"))
    state = await checked(case)
    assert state.registration.result.status == "registered_elsewhere"
    assert state.moved_to == "0758"
    assert (await case.task("transfer")).status == TaskStatus.OPEN
    await case.sleep_until(state.notified_at + timedelta(days=2))
    await case.complete("transfer", {"kind": "note", "note": "warm overgedragen aan Breda"})
    summary = await case.handle.result()
    assert summary.closed_reason == ClosedReason.MOVED
    assert (await case.state()).responsible_municipality == "0758"
    await case.keep_history("registered_elsewhere")


async def test_no_known_address_flags_housing_for_the_screening(env, cases: StartCase, simulation):
    case = await cases(lives_in(simulation, "1999"))
    state = await checked(case)
    assert state.registration.result.status == "no_known_address"
    assert "housing" in state.condition_flags
    assert "housing" not in {t.condition for t in state.tasks}, "a task only after the screening, with consent"
    no_consent_for_housing = {c.value: "in_order" for c in BasicCondition} | {"housing": "no_consent"}
    await case.complete("screening", {"kind": "screening", "conditions": no_consent_for_housing})
    assert "housing" not in (await case.state()).condition_flags, "nothing about housing is kept without consent"


async def test_not_found_is_recorded_for_the_caseworker(env, cases: StartCase, simulation):
    n = notice(simulation.today())
    simulation.population.remove(n.person.bsn)
    case = await cases(n)
    state = await checked(case)
    assert state.registration.result.status == "not_found"
    assert "registration_not_found" in actions(state)
    assert state.task(MANUAL) is None and state.moved_to is None


async def test_a_register_down_longer_than_the_bound_becomes_a_task(env, cases: StartCase, simulation, simulated):
    """The register is down for two days: the case goes on (updates are answered), and after
    a day of retries a caseworker gets the task to check the address by hand."""
    now = await env.get_current_time()
    set_faults(simulation, outages=[{"start": now - timedelta(minutes=1), "end": now + timedelta(days=2)}])
    n = lives_in(simulation, "0855")
    case = await cases(n)

    await case.sleep_until(case.notified_at + timedelta(hours=3))
    await case.complete("contact_prison", {"kind": "contact", "contacted_on": str(await case.today())})
    state = await case.state()
    assert state.registration.running and state.phase == Phase.PLANNING
    assert simulated.requests >= 2, "retried with backoff"

    await case.sleep_until(case.notified_at + BOUND + timedelta(hours=2))
    state = await checked(case)
    assert state.registration.failure == FollowUpFailure.REQUEST_UNAVAILABLE
    failed = next(h for h in state.history if h.action == "registration_check_failed")
    assert failed.detail == "population register unavailable: check the address by hand"
    task = state.task(MANUAL)
    assert task.status == TaskStatus.OPEN and task.due == failed.at + timedelta(days=3)
    history = (await case.handle.fetch_history()).to_json()
    assert "POST personen" not in history and n.person.bsn not in history, "the last failure only encrypted"
    await case.complete(MANUAL, {"kind": "note", "note": "BRP geraadpleegd: ingeschreven in Tilburg"})
    state = await case.state()
    assert state.task(MANUAL).status == TaskStatus.COMPLETED and state.phase == Phase.PLANNING
    await case.keep_history("registration_unavailable")


async def test_a_rejected_request_becomes_a_task_without_retries(env, cases: StartCase, workflow_engine):
    """A 400 means the request is wrong: asked once, then a caseworker checks by hand."""
    asked: list[httpx.Request] = []

    def refuses(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        invalid = [{"name": "fields", "code": "field", "reason": "onbekend veld"}]
        return httpx.Response(
            400, json={"title": "Een of meerdere parameters zijn niet correct.", "invalidParams": invalid}
        )

    queue = f"cases-{uuid.uuid4()}"
    async with (
        PopulationRegisterClient.connect(REGISTER_URL, transport=httpx.MockTransport(refuses)) as client,
        build_worker(
            env.client,
            queue,
            workflow_engine,
            [PopulationRegisterActivities(client).check_registration, advice_requested],
        ),
    ):
        case = await CaseDriver.start(env, queue, notice(local_date(await env.get_current_time())))
        state = await checked(case)
        assert state.registration.failure == FollowUpFailure.REQUEST_REJECTED
        assert len(asked) == 1
        failed = next(h for h in state.history if h.action == "registration_check_failed")
        assert "refused" in failed.detail
        assert state.task(MANUAL).status == TaskStatus.OPEN
        await case.event({"type": "closed", "note": "test finished"}, actor="test")
        await case.handle.result()


# Each fault kind of the register, and what the simulator counts when it injects it.
FAULTS = {
    "errors": ({"error_rate": 0.2}, "error"),
    "latency spikes": ({"latency": {"spike": 2, "spike_share": 0.3}}, "latency"),
    "malformed answers": ({"malformed_rate": 0.5}, "malformed_"),
    # Hanging longer than the client's timeout (1 s here).
    "timeouts": ({"timeout_rate": 0.3, "hang": 1.5}, "hang"),
    "down, then back": ({"error_rate": 1.0}, "error"),
}


@pytest.mark.parametrize(("faults", "injected"), FAULTS.values(), ids=FAULTS.keys())
async def test_faults_change_nothing_in_the_end(env, cases: StartCase, simulation, faults, injected):
    """Every fault kind of the register: the same outcome as without faults, no task for a
    caseworker (the register answers well within the bound), nothing done twice."""
    set_faults(simulation, **faults)
    people = {"0855": "registered_here", "0758": "registered_elsewhere", "1999": "no_known_address"}
    started = [(await cases(lives_in(simulation, where)), status) for where, status in people.items() for _ in range(3)]
    if faults.get("error_rate") == 1.0:
        await env.sleep(timedelta(hours=6))
        set_faults(simulation)  # back after six hours
    await env.sleep(timedelta(hours=8))
    for case, status in started:
        state = await checked(case)
        assert state.registration.result.status == status
        assert state.task(MANUAL) is None
        outcomes = [a for a in actions(state) if a.startswith("regist")]
        assert len(outcomes) == 1, outcomes
    assert (await started[3][0].task("transfer")).status == TaskStatus.OPEN
    kinds = {kind.removeprefix("population_register.") for kind in simulation.faults.injected}
    assert any(kind.startswith(injected) for kind in kinds), kinds


async def test_a_check_running_at_continue_as_new_goes_on_in_the_next_run(env, cases: StartCase, simulation):
    """A case that continues as new (here: its offence data erased) while the register is
    down asks again in the new run, for the time left of the same bound."""
    now = await env.get_current_time()
    set_faults(simulation, outages=[{"start": now - timedelta(minutes=1), "end": now + timedelta(hours=5)}])
    case = await cases(lives_in(simulation, "0855"))
    first = await case.state()
    first_run = (await case.handle.describe()).run_id
    await case.sleep_until(case.notified_at + timedelta(hours=2))
    erased = await case.handle.execute_update(CaseWorkflow.erase_offence, EraseOffenceInput(actor="retention"))
    assert erased.continuing_as_new
    # Wait for the new run before querying: the time-skipping server leaves a query sent
    # while a run hands over unanswered.
    deadline = asyncio.get_running_loop().time() + 10
    while (await case.handle.describe()).run_id == first_run:
        assert asyncio.get_running_loop().time() < deadline, "the case did not continue as new"
        await asyncio.sleep(0.05)
    state = await case.state()
    assert state.registration.running and state.offence_erased_at is not None

    await case.sleep_until(case.notified_at + timedelta(hours=8))
    state = await checked(case)
    assert state.registration.result.status == "registered_here"
    assert state.registration.started_at == first.registration.started_at
    assert state.registration.ask_until == first.registration.started_at + BOUND
    assert state.task(MANUAL) is None


async def test_a_case_closed_while_the_register_is_down_completes(env, cases: StartCase, simulation):
    now = await env.get_current_time()
    set_faults(simulation, outages=[{"start": now - timedelta(minutes=1), "end": now + timedelta(days=3)}])
    case = await cases(lives_in(simulation, "0855"))
    await case.sleep_until(case.notified_at + timedelta(hours=2))
    await case.event({"type": "declined", "note": "wil geen hulp"}, actor="anna")
    summary = await case.handle.result()
    assert summary.closed_reason == ClosedReason.DECLINED
    state = await case.state()
    assert state.registration.running, "stopped, not failed"
    assert state.task(MANUAL) is None

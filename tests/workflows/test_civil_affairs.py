"""A caseworker takes the ID document on: the case books the appointment at civil affairs
and follows the document until it is ready, and survives civil affairs' faults. Under the
time-skipping server, against the simulator, whose clock follows the test server's.
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

from activities.partners import CivilAffairsActivities, CivilAffairsClient
from core.settings import SIMULATOR_PATHS
from domain.follow_up import FollowUpFailure
from domain.models import BasicCondition, CaseState, TaskStatus, local_date
from partners import Simulation, SimulatorConfig
from partners.config import FaultPlan
from tests.helpers import advice_requested, application_in_review, application_taken, notice, registered_here
from tests.workflows.conftest import StartCase
from tests.workflows.driver import CaseDriver
from worker.temporal import build_worker

CIVIL_AFFAIRS_URL = f"http://partners.test{SIMULATOR_PATHS['civil_affairs']}"
MANUAL = "check_id_appointment"
READY_AFTER = SimulatorConfig().civil_affairs.document_ready_after


@pytest.fixture
async def task_queue(
    env: WorkflowEnvironment, workflow_engine: Engine, simulated: httpx.AsyncBaseTransport
) -> AsyncIterator[str]:
    """A worker whose civil affairs is the simulator (the other tests stand one in)."""
    queue = f"cases-{uuid.uuid4()}"
    async with CivilAffairsClient.connect(CIVIL_AFFAIRS_URL, timeout=1.0, transport=simulated) as client:
        activities = CivilAffairsActivities(client)
        partners = [
            registered_here,
            application_taken,
            application_in_review,
            advice_requested,
            activities.book_id_appointment,
            activities.read_id_appointment,
        ]
        async with build_worker(env.client, queue, workflow_engine, partners):
            yield queue


def set_faults(simulation: Simulation, **faults: Any) -> None:
    simulation.faults.replace(FaultPlan.model_validate({"civil_affairs": faults}), seed=simulation.seed)


def actions(state: CaseState) -> list[str]:
    return [h.action for h in state.history]


async def claimed(cases: StartCase, simulation: Simulation) -> CaseDriver:
    """A case whose screening says only the ID document needs action, with the ID task
    taken on by the caseworker on the day after the notice."""
    case = await cases(notice(simulation.today(), release_in=timedelta(weeks=20)))
    conditions = {c.value: "in_order" for c in BasicCondition} | {"id_document": "needs_action"}
    await case.sleep_until(await case.today() + timedelta(days=1))
    await case.event({"type": "screening_recorded", "conditions": conditions}, actor="anna")
    await case.claim("id_document")
    return case


async def booked(case: CaseDriver) -> CaseState:
    return await case.eventually(
        lambda s: s.id_document_follow_up is not None and s.id_document_follow_up.appointment_id
    )


async def finished(case: CaseDriver) -> CaseState:
    return await case.eventually(
        lambda s: s.id_document_follow_up is not None and not s.id_document_follow_up.running, timeout=30
    )


async def test_the_ready_document_completes_the_task(env, cases: StartCase, simulation, simulated):
    """Booked at the claim; a week after the appointment the document is ready, and the
    task is completed by civil affairs with the document and the day it was ready."""
    case = await claimed(cases, simulation)
    state = await booked(case)
    follow = state.id_document_follow_up
    assert follow.reference == f"{case.handle.id}/id_document"
    [appointment] = simulation.civil_affairs.appointments.values()
    assert appointment.id == follow.appointment_id and appointment.municipality == "0855"
    assert follow.appointment_at - await env.get_current_time() >= timedelta(days=2)
    assert "id_appointment_booked" in actions(state)
    assert state.task("id_document").status == TaskStatus.OPEN

    await case.sleep_until(local_date(follow.appointment_at) + timedelta(days=3))
    assert (await case.state()).id_document_follow_up.document_status == "in_production"
    await case.sleep_until(local_date(follow.appointment_at + READY_AFTER) + timedelta(days=3))
    state = await finished(case)
    task = state.task("id_document")
    assert task.status == TaskStatus.COMPLETED and task.completed_by == "civil_affairs"
    assert task.outcome.kind == "id_document" and task.outcome.document == appointment.document
    assert task.outcome.ready_on == local_date(follow.appointment_at + READY_AFTER)
    assert state.task(MANUAL) is None
    assert len(simulation.civil_affairs.appointments) == 1
    assert actions(state).count("id_appointment_booked") == 1
    history = (await case.handle.fetch_history()).to_json()
    assert case.notice.person.bsn not in history, "the BSN only encrypted"
    await case.keep_history("id_document_ready")


async def test_a_caseworker_who_completes_first_wins(env, cases: StartCase, simulation, simulated):
    case = await claimed(cases, simulation)
    await booked(case)
    await case.sleep_until(await case.today() + timedelta(days=2))
    ready = await case.today()
    await case.complete("id_document", {"kind": "id_document", "document": "passport", "ready_on": str(ready)})
    state = await finished(case)
    ended = next(h for h in state.history if h.action == "id_follow_up_ended")
    assert ended.detail == "task completed"
    reads = simulated.requests
    await case.sleep_until(await case.today() + READY_AFTER + timedelta(days=3))
    state = await case.state()
    assert simulated.requests == reads, "no more reads"
    task = state.task("id_document")
    assert task.completed_by == "anna" and task.outcome.document == "passport"


async def test_civil_affairs_down_past_the_bound_becomes_a_task(env, cases: StartCase, simulation, simulated):
    """Down for a week: the case goes on (updates answered), and after the bound a caseworker
    gets the task to book the appointment by hand."""
    now = await env.get_current_time()
    set_faults(simulation, outages=[{"start": now - timedelta(minutes=1), "end": now + timedelta(days=7)}])
    case = await claimed(cases, simulation)
    await case.sleep_until(await case.today() + timedelta(days=1))
    await case.complete("contact_prison", {"kind": "contact", "contacted_on": str(await case.today())})
    state = await case.state()
    assert state.id_document_follow_up.running and state.id_document_follow_up.appointment_id is None
    assert simulated.requests >= 2, "retried with backoff"

    await case.sleep_until(await case.today() + timedelta(days=2))
    state = await finished(case)
    assert state.id_document_follow_up.failure == FollowUpFailure.REQUEST_UNAVAILABLE
    failed = next(h for h in state.history if h.action == "id_appointment_follow_up_failed")
    assert failed.detail == "civil affairs unavailable: book the ID appointment by hand"
    assert state.task(MANUAL).status == TaskStatus.OPEN
    assert state.task("id_document").status == TaskStatus.OPEN, "still the caseworker's"
    assert not simulation.civil_affairs.appointments


async def test_errors_change_nothing_in_the_end(env, cases: StartCase, simulation):
    """A fifth of the requests fail: the same end state as without faults."""
    set_faults(simulation, error_rate=0.2)
    case = await claimed(cases, simulation)
    state = await booked(case)
    appointment_at = state.id_document_follow_up.appointment_at
    await case.sleep_until(local_date(appointment_at + READY_AFTER) + timedelta(days=4))
    state = await finished(case)
    assert state.id_document_follow_up.failure is None
    assert state.task("id_document").completed_by == "civil_affairs"
    assert state.task(MANUAL) is None
    assert len(simulation.civil_affairs.appointments) == 1
    kinds = {kind.removeprefix("civil_affairs.") for kind in simulation.faults.injected}
    assert any(kind.startswith("error") for kind in kinds), kinds

"""The mayor's track (BIJ) under the time-skipping server: a return with an area ban and
its evaluation, a leave at short notice, a leave whose date moves and one that is
cancelled, a notice filtered by the municipality's choice, probation's advice to the mayor
(from the simulator, and probation down), the ladder, and a notice sent twice.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from activities.partners import ProbationActivities, ProbationClient
from core.commands import start_notice
from core.settings import SIMULATOR_PATHS
from domain.follow_up import FollowUpFailure
from domain.mayoral import (
    CompleteNoticeTaskInput,
    MayoralEventInput,
    MayoralNotice,
    NoticeClosedReason,
    NoticeState,
    NoticeStatus,
)
from domain.models import ClaimTaskInput, EscalationLevel, TaskStatus, as_datetime, local_date
from domain.policy import Policy, load_policy
from partners import SimulatorConfig
from partners.config import FaultPlan
from store.tables import MayoralNoticeRow
from tests.helpers import STAND_INS, bij_notice, mayoral_advice_requested
from tests.workflows.driver import keep_history
from worker.temporal import build_worker
from workflows.mayoral import MayoralNoticeWorkflow

PROBATION_URL = f"http://partners.test{SIMULATOR_PATHS['probation']}"
ADVICE_AFTER = SimulatorConfig().probation.mayoral_advice_after
PRE_DATE_STEPS = ["register_notice", "gather_information", "assess_risk"]


class NoticeDriver:
    """Drives one notice the way the API would."""

    def __init__(self, env: WorkflowEnvironment, handle: WorkflowHandle, notice: MayoralNotice) -> None:
        self.env, self.handle, self.notice = env, handle, notice

    async def state(self) -> NoticeState:
        return await self.handle.query(MayoralNoticeWorkflow.state)

    async def today(self) -> date:
        return local_date(await self.env.get_current_time())

    async def sleep_until(self, day: date) -> None:
        """To an office hour that day, away from the notice's midnight and hourly timers."""
        moment = datetime.combine(day, time(9, 37), tzinfo=UTC)
        await self.env.sleep(moment - await self.env.get_current_time())

    async def _update(self, update: Any, arg: Any) -> Any:
        try:
            return await self.handle.execute_update(update, arg)
        except RPCError as err:
            # The time-skipping server forgets an update's outcome once the workflow has
            # completed (an update that closed the notice): the closed workflow is the proof.
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            assert (await self.handle.describe()).status == WorkflowExecutionStatus.COMPLETED, err
            return None

    async def complete(self, key: str, outcome: dict[str, Any] | None = None, actor: str = "oov-ilse") -> Any:
        update = CompleteNoticeTaskInput.model_validate({"task_key": key, "actor": actor, "outcome": outcome})
        return await self._update(MayoralNoticeWorkflow.complete_task, update)

    async def event(self, event: dict[str, Any], actor: str = "justice_information_service") -> Any:
        update = MayoralEventInput.model_validate({"actor": actor, "event": event})
        return await self._update(MayoralNoticeWorkflow.record_event, update)

    async def eventually(self, check, timeout: float = 15.0) -> NoticeState:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            state = await self.state()
            if check(state):
                return state
            assert asyncio.get_running_loop().time() < deadline, "the notice did not reach the expected state"
            await asyncio.sleep(0.05)

    async def keep_history(self, name: str) -> None:
        await keep_history(self.env.client, self.handle.id, name)


@pytest.fixture
async def notices(env: WorkflowEnvironment, task_queue: str) -> AsyncIterator[Any]:
    started: list[NoticeDriver] = []

    async def start(notice: MayoralNotice, policy: Policy | None = None) -> NoticeDriver:
        receipt = await start_notice(env.client, notice, policy=policy or load_policy(), task_queue=task_queue)
        assert receipt.created
        driver = NoticeDriver(
            env, env.client.get_workflow_handle_for(MayoralNoticeWorkflow.run, notice.workflow_id), notice
        )
        started.append(driver)
        return driver

    yield start
    await env.sleep(timedelta(minutes=31, seconds=7))
    for driver in started:
        if (await driver.handle.describe()).status == WorkflowExecutionStatus.RUNNING:
            state = await driver.state()
            if state.kind == "leave":
                await driver.event({"type": "leave_cancelled"})
            else:
                await driver.complete("register_notice", {"kind": "notice_registered", "concerns_municipality": False})
        await driver.handle.result()


def actions(state: NoticeState) -> list[str]:
    return [entry.action for entry in state.history]


MEASURES_DECIDED = {"kind": "assessment", "decision": "measures", "reasons": "slachtoffer woont in de straat"}


async def test_a_return_with_an_area_ban_runs_to_its_evaluation(env, notices, workflow_engine: Engine):
    today = local_date(await env.get_current_time())
    notice = bij_notice(today, starts_in=timedelta(weeks=6))
    bij = await notices(notice)
    state = await bij.eventually(lambda s: s.task("register_notice") is not None)
    assert [t.key for t in state.tasks] == ["register_notice", "gather_information", "assess_risk"]
    assert not state.compressed
    starts = as_datetime(notice.starts_on)
    assert state.task("assess_risk").due == starts - timedelta(days=14)
    assert "prepare_communication" not in [t.key for t in state.tasks], "no unrest expected"

    await bij.sleep_until(today + timedelta(days=1))
    await bij.complete("register_notice", {"kind": "notice_registered", "concerns_municipality": True})
    await bij.complete(
        "gather_information",
        {"kind": "information", "probation_consulted": True, "police_consulted": True, "victims_nearby": "yes"},
    )
    await bij.complete("assess_risk", MEASURES_DECIDED)
    state = await bij.state()
    assert state.task("decide_measures").status == TaskStatus.OPEN
    ban = {
        "type": "area_ban",
        "starts_on": str(notice.starts_on),
        "ends_on": str(notice.starts_on + timedelta(days=180)),
        "area": "Wilhelminapark en omliggende straten",
    }
    await bij.complete("decide_measures", {"kind": "measures", "measures": [ban]})
    state = await bij.state()
    assert state.measure_types == ["area_ban"] and state.status == NoticeStatus.OPEN
    assert "evaluate" not in [t.key for t in state.tasks], "the evaluation comes after the date"

    await bij.sleep_until(notice.starts_on + timedelta(days=1))
    await bij.event({"type": "returned", "returned_on": str(notice.starts_on)})
    state = await bij.eventually(lambda s: s.task("evaluate") is not None)
    assert state.task("evaluate").due == starts + timedelta(days=14)
    await bij.complete("evaluate", {"kind": "note", "note": "rustig verlopen"})
    assert await bij.handle.result() is not None
    state = await bij.state()
    assert (state.status, state.closed_reason) == (NoticeStatus.CLOSED, NoticeClosedReason.EVALUATED)
    with Session(workflow_engine) as session:
        row = session.get(MayoralNoticeRow, notice.workflow_id)
    assert row is not None and row.status == "closed" and row.measure_types == "area_ban"
    assert row.assessed_before_date is True and row.decision == "measures"
    await bij.keep_history("mayoral_return")


async def test_a_leave_at_short_notice_gets_a_plan_it_can_still_meet(env, notices):
    now = await env.get_current_time()
    today = local_date(now)
    notice = bij_notice(today, kind="leave", starts_in=timedelta(days=5), unrest_expected=True)
    bij = await notices(notice)
    state = await bij.eventually(lambda s: s.task("assess_risk") is not None)
    assert state.compressed and "plan_compressed" in actions(state)
    dues = [state.task(key).due for key in [*PRE_DATE_STEPS, "prepare_communication"]]
    assert all(state.received_at <= due < as_datetime(notice.starts_on) for due in dues), dues
    assert dues == sorted(dues), "the steps keep their order"
    assert all(t.escalation_level != EscalationLevel.SUPERVISOR for t in state.tasks), "no deadline already past"

    # The date moves once: every step moves with it.
    later = notice.starts_on + timedelta(days=14)
    await bij.event({"type": "date_changed", "starts_on": str(later), "ends_on": str(later + timedelta(days=2))})
    moved = await bij.state()
    assert moved.starts_on == later
    assert moved.task("assess_risk").due > state.task("assess_risk").due
    # Then the leave is cancelled: the notice closes.
    await bij.event({"type": "leave_cancelled"})
    await bij.handle.result()
    state = await bij.state()
    assert state.closed_reason == NoticeClosedReason.LEAVE_CANCELLED
    assert all(t.status != TaskStatus.OPEN for t in state.tasks)
    await bij.keep_history("mayoral_leave_cancelled")


async def test_an_overdue_step_goes_up_to_the_public_order_coordinator_then_the_chief_of_staff(env, notices):
    today = local_date(await env.get_current_time())
    bij = await notices(bij_notice(today, starts_in=timedelta(weeks=6)))
    await bij.sleep_until(today + timedelta(days=6))
    state = await bij.eventually(lambda s: len([n for n in s.notifications if n.task_key == "register_notice"]) == 3)
    sent = [n.recipient_role for n in state.notifications if n.task_key == "register_notice"]
    assert sent == ["team", "public_order_coordinator", "chief_of_staff"]
    assert state.task("register_notice").overdue


async def test_a_notice_filtered_by_the_municipalitys_choice_is_recorded_and_ends(env, notices, workflow_engine):
    policy = load_policy()
    assert policy.mayoral is not None
    only_unrest = policy.model_copy(
        update={"mayoral": policy.mayoral.model_copy(update={"only_unrest_expected": ["0855"]})}
    )
    today = local_date(await env.get_current_time())
    notice = bij_notice(today, unrest_expected=False)
    bij = await notices(notice, only_unrest)
    await bij.handle.result()
    state = await bij.state()
    assert (state.status, state.closed_reason, state.tasks) == (NoticeStatus.FILTERED, NoticeClosedReason.FILTERED, [])
    assert "notice_filtered" in actions(state)
    with Session(workflow_engine) as session:
        row = session.get(MayoralNoticeRow, notice.workflow_id)
    assert row is not None and row.status == "filtered", "counted, never dropped"
    await bij.keep_history("mayoral_filtered")


async def test_a_notice_sent_twice_is_one_notice(env, notices, task_queue):
    today = local_date(await env.get_current_time())
    notice = bij_notice(today)
    bij = await notices(notice)
    again = await start_notice(env.client, notice, policy=load_policy(), task_queue=task_queue)
    assert again.notice_id == notice.notice_id and not again.created
    assert actions(await bij.state()).count("notice_received") == 1


async def test_a_notice_not_for_this_municipality_closes(env, notices):
    today = local_date(await env.get_current_time())
    bij = await notices(bij_notice(today))
    await bij.complete("register_notice", {"kind": "notice_registered", "concerns_municipality": False})
    await bij.handle.result()
    assert (await bij.state()).closed_reason == NoticeClosedReason.NOT_CONCERNED


# ---------------------------------------------------------------------------
# Probation's advice to the mayor, from the simulator


@pytest.fixture
async def probation_queue(
    env: WorkflowEnvironment, workflow_engine: Engine, simulated: httpx.AsyncBaseTransport
) -> AsyncIterator[str]:
    queue = f"notices-{uuid.uuid4()}"
    async with ProbationClient.connect(PROBATION_URL, timeout=1.0, transport=simulated) as client:
        partners = [a for a in STAND_INS if a is not mayoral_advice_requested]
        partners.append(ProbationActivities(client).read_mayoral_advice)
        async with build_worker(env.client, queue, workflow_engine, partners):
            yield queue


async def _start_with_probation(env, queue: str, notice: MayoralNotice) -> NoticeDriver:
    await start_notice(env.client, notice, policy=load_policy(), task_queue=queue)
    return NoticeDriver(env, env.client.get_workflow_handle_for(MayoralNoticeWorkflow.run, notice.workflow_id), notice)


async def _close(bij: NoticeDriver) -> None:
    await bij.env.sleep(timedelta(minutes=31, seconds=7))
    await bij.complete("register_notice", {"kind": "notice_registered", "concerns_municipality": False})
    await bij.handle.result()


async def test_probations_advice_to_the_mayor_is_recorded_as_codes(env, probation_queue, simulation):
    bij = await _start_with_probation(env, probation_queue, bij_notice(simulation.today()))
    state = await bij.eventually(lambda s: s.probation_advice is not None and s.probation_advice.requested_on)
    assert state.probation_advice.risk is None
    await bij.sleep_until(simulation.today() + ADVICE_AFTER + timedelta(days=3))
    state = await bij.eventually(lambda s: not s.probation_advice.running, timeout=30)
    advice = state.probation_advice
    assert advice.risk in ("low", "medium", "high") and advice.issued_on is not None
    assert "probation_advice_received" in actions(state)
    assert state.task("ask_probation_advice") is None
    await bij.keep_history("mayoral_probation_advice")
    await _close(bij)


async def test_probation_down_past_the_bound_is_a_step_to_ask_by_hand(env, probation_queue, simulation):
    simulation.faults.replace(FaultPlan.model_validate({"probation": {"error_rate": 1}}), seed=simulation.seed)
    bij = await _start_with_probation(env, probation_queue, bij_notice(simulation.today()))
    await bij.sleep_until(simulation.today() + timedelta(days=8))
    state = await bij.eventually(lambda s: s.task("ask_probation_advice") is not None, timeout=30)
    assert state.probation_advice.failure == FollowUpFailure.READ_UNAVAILABLE
    assert state.task("ask_probation_advice").status == TaskStatus.OPEN
    simulation.faults.replace(FaultPlan(), seed=simulation.seed)
    await bij.keep_history("mayoral_probation_unavailable")
    await _close(bij)


async def test_a_step_claimed_by_one_cannot_be_completed_by_another(env, notices):
    today = local_date(await env.get_current_time())
    bij = await notices(bij_notice(today))
    await bij.handle.execute_update(
        MayoralNoticeWorkflow.claim_task, ClaimTaskInput(task_key="register_notice", actor="oov-ilse")
    )
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await bij.complete("register_notice", {"kind": "notice_registered", "concerns_municipality": True}, "oov-piet")
    assert "assigned to someone else" in str(refused.value.cause)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await bij.complete("register_notice", None)
    assert "takes an outcome of kind 'notice_registered'" in str(refused.value.cause)
    assert (await bij.state()).task("register_notice").status == TaskStatus.OPEN

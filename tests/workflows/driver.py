"""Drives one case under the time-skipping server, the way the API would."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from core.commands import start_case
from domain.models import (
    AssignTaskInput,
    CaseState,
    ClaimTaskInput,
    CompleteTaskInput,
    DetentionNotice,
    RecordEventInput,
    SharePlanInput,
    ShareRiskInput,
    Task,
    local_date,
)
from domain.policy import Policy, load_policy
from workflows.case import CaseWorkflow

HISTORIES = Path(__file__).parent.parent / "histories"


class CaseDriver:
    def __init__(
        self, env: WorkflowEnvironment, handle: WorkflowHandle, notice: DetentionNotice, task_queue: str
    ) -> None:
        self.env, self.handle, self.notice, self.task_queue = env, handle, notice, task_queue

    @classmethod
    async def start(
        cls, env: WorkflowEnvironment, task_queue: str, notice: DetentionNotice, policy: Policy | None = None
    ) -> CaseDriver:
        receipt = await start_case(env.client, notice, policy=policy or load_policy(), task_queue=task_queue)
        assert receipt.created
        case = cls(env, env.client.get_workflow_handle_for(CaseWorkflow.run, receipt.case_id), notice, task_queue)
        case.notified_at = (await case.state()).notified_at
        return case

    @property
    def client(self) -> Client:
        return self.env.client

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def today(self) -> date:
        return local_date(await self.now())

    def office_hour(self, day: date) -> datetime:
        """A moment in office hours on that day, at least an hour from the case's timers.

        The case's timers fall at midnight (dates) and at the notification's time of day.
        Acting on the same instant is avoided: the time-skipping test server fails a
        workflow task that holds both a firing timer and an update ("invalid history
        builder state for action").
        """
        notified = self.notified_at.hour * 60 + self.notified_at.minute
        for hour in (9, 13, 16):
            distance = abs(hour * 60 + 30 - notified)
            if min(distance, 24 * 60 - distance) >= 60:
                return datetime.combine(day, time(hour, 30), tzinfo=UTC)
        raise AssertionError("unreachable: three office hours lie hours apart")

    async def sleep_until(self, moment: datetime | date) -> None:
        """Skip time to a moment; a date means an office hour that day."""
        if not isinstance(moment, datetime):
            moment = self.office_hour(moment)
        delta = moment - await self.now()
        assert delta > timedelta(0), f"{moment} has passed already"
        await self.env.sleep(delta)

    async def state(self) -> CaseState:
        return await self.handle.query(CaseWorkflow.state)

    async def task(self, key: str) -> Task:
        task = (await self.state()).task(key)
        assert task is not None, f"no task {key}"
        return task

    async def _update(self, update: Any, arg: Any) -> Any:
        try:
            return await self.handle.execute_update(update, arg)
        except RPCError as err:
            # The time-skipping server forgets an update's outcome once its workflow has
            # completed (here: an update that closed the case). The dev server keeps it;
            # tests/api checks that. Here the closed workflow is the proof it was applied.
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            described = await self.handle.describe()
            assert described.status == WorkflowExecutionStatus.COMPLETED, err
            return None

    async def complete(self, key: str, outcome: dict[str, Any] | None = None, actor: str = "anna") -> Task:
        update = CompleteTaskInput.model_validate({"task_key": key, "actor": actor, "outcome": outcome})
        return await self._update(CaseWorkflow.complete_task, update)

    async def claim(self, key: str, actor: str = "anna") -> Task:
        return await self._update(CaseWorkflow.claim_task, ClaimTaskInput(task_key=key, actor=actor))

    async def assign(self, key: str, assignee: str, actor: str = "coordinator") -> Task:
        return await self._update(
            CaseWorkflow.assign_task, AssignTaskInput(task_key=key, actor=actor, assignee=assignee)
        )

    async def event(self, event: dict[str, Any], actor: str = "prison_service") -> Any:
        update = RecordEventInput.model_validate({"actor": actor, "event": event})
        return await self._update(CaseWorkflow.record_event, update)

    async def share_plan(self, plan: dict[str, Any], actor: str = "message_box") -> Any:
        """The shareable D&R plan, as the message box's intake sends it."""
        update = SharePlanInput.model_validate(
            {"actor": actor, "plan": {"detention_id": self.notice.detention_id, **plan}}
        )
        return await self._update(CaseWorkflow.share_plan, update)

    async def share_risk(self, risk: dict[str, Any], actor: str = "message_box") -> Any:
        update = ShareRiskInput.model_validate(
            {"actor": actor, "risk": {"detention_id": self.notice.detention_id, **risk}}
        )
        return await self._update(CaseWorkflow.share_risk, update)

    async def eventually(self, check, timeout: float = 10.0) -> CaseState:
        """Activities (notifications) finish a moment after the timer that caused them."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            state = await self.state()
            if check(state):
                return state
            assert asyncio.get_running_loop().time() < deadline, "the case did not reach the expected state"
            await asyncio.sleep(0.05)

    async def accepted_updates(self) -> int:
        history = await self.handle.fetch_history()
        return sum(1 for e in history.events if e.HasField("workflow_execution_update_accepted_event_attributes"))

    async def keep_history(self, name: str) -> None:
        await keep_history(self.client, self.handle.id, name)


async def run_histories(client: Client, workflow_id: str) -> list[WorkflowHistory]:
    """The history of every run of a workflow, the first first: from the latest run back
    along the runs it continued."""
    histories: list[WorkflowHistory] = []
    run_id: str | None = None
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        histories.insert(0, history)
        started = history.events[0].workflow_execution_started_event_attributes
        if not started.continued_execution_run_id:
            return histories
        run_id = started.continued_execution_run_id


async def keep_history(client: Client, workflow_id: str, name: str) -> None:
    """With REENTRY_RECORD_HISTORIES=1, store every run's history for the replay test:
    ``<name>.json`` for the first run, ``<name>.run2.json`` and on for those it continued as."""
    if os.environ.get("REENTRY_RECORD_HISTORIES"):
        HISTORIES.mkdir(exist_ok=True)
        for number, history in enumerate(await run_histories(client, workflow_id), start=1):
            data = json.loads(history.to_json())
            suffix = "" if number == 1 else f".run{number}"
            (HISTORIES / f"{name}{suffix}.json").write_text(json.dumps(data, indent=1) + "\n")

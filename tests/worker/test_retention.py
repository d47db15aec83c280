"""Retention on a real Temporal dev server: the schedule the worker creates, and a pass
(``reentry retention run``) that really deletes case runs. The time-skipping test server
implements neither schedules nor DeleteWorkflowExecution (tests/workflows has the pass's
timing under time skipping)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import (
    Client,
    ScheduleActionStartWorkflow,
    ScheduleOverlapPolicy,
    WorkflowExecutionStatus,
    WorkflowHandle,
)
from temporalio.service import RPCError, RPCStatusCode

from core.commands import start_case
from core.settings import Settings
from domain.models import RecordEventInput, local_date
from domain.policy import load_policy
from domain.retention import RetentionInput
from store.tables import CaseRow
from tests.helpers import STAND_INS, TEST_KEY_LINE, notice
from worker import retention
from worker.temporal import build_worker
from workflows.case import CaseWorkflow

BIN = Path(sys.prefix) / "bin"


async def gone(client: Client, case_id: str, run_id: str | None = None, timeout: float = 30) -> bool:
    """Whether Temporal has deleted a run (deletion is asynchronous)."""
    handle = client.get_workflow_handle(case_id, run_id=run_id)
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        try:
            await handle.describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return True
            raise
        await asyncio.sleep(0.25)
    return False


async def test_the_worker_keeps_one_schedule_that_follows_the_settings(dev_env):
    client = dev_env.client
    settings = Settings(_env_file=None, task_queue=f"retention-{uuid.uuid4()}")
    await retention.ensure_retention_schedule(client, settings)
    await retention.ensure_retention_schedule(client, settings)  # every worker start: no error, one schedule
    handle = client.get_schedule_handle(retention.SCHEDULE_ID)
    described = await handle.describe()
    action = described.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert (action.workflow, action.id, action.task_queue) == (
        "RetentionWorkflow",
        "reentry-retention",
        settings.task_queue,
    )
    [started_with] = await client.data_converter.decode(action.args, [RetentionInput])
    assert started_with == RetentionInput(closed_term="P2Y", mayoral_term="P6M")
    [daily] = described.schedule.spec.calendars
    assert ([r.start for r in daily.hour], [r.start for r in daily.minute]) == ([3], [0])
    assert described.schedule.spec.time_zone_name == "Europe/Amsterdam"
    assert described.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP

    await handle.pause(note="onderhoud")
    changed = settings.model_copy(update={"retention_closed_term": "P1Y", "retention_schedule": "PT12H"})
    await retention.ensure_retention_schedule(client, changed)
    described = await handle.describe()
    [started_with] = await client.data_converter.decode(described.schedule.action.args, [RetentionInput])
    assert started_with.closed_term == "P1Y"
    assert [i.every for i in described.schedule.spec.intervals] == [timedelta(hours=12)]
    assert described.schedule.state.paused, "a schedule an operator paused stays paused"
    await handle.delete()


async def test_a_pass_deletes_the_runs_that_held_the_data(dev_env, engine: Engine):
    """End to end: `reentry retention run` against a running worker, with terms of days so
    that cases started now are due now."""
    client, queue = dev_env.client, f"retention-{uuid.uuid4()}"
    today = local_date(datetime.now(UTC))
    started = today - timedelta(days=40)
    serious = notice(started, release_in=timedelta(days=39), offence="violent")
    closing = notice(started, release_in=None)
    async with build_worker(client, queue, engine, STAND_INS):
        handles: dict[str, WorkflowHandle] = {}
        for case, event in (
            (serious, {"type": "released", "released_on": str(today - timedelta(days=1))}),
            (closing, {"type": "declined"}),
        ):
            await start_case(client, case, policy=load_policy(), task_queue=queue)
            handles[case.case_id] = client.get_workflow_handle_for(CaseWorkflow.run, case.case_id)
            await handles[case.case_id].execute_update(
                CaseWorkflow.record_event, RecordEventInput.model_validate({"actor": "prison_service", "event": event})
            )
        await handles[closing.case_id].result()
        first_run = (await handles[serious.case_id].describe()).run_id
        closed_run = (await handles[closing.case_id].describe()).run_id

        environment = {
            **os.environ,
            "REENTRY_TEMPORAL_ADDRESS": client.service_client.config.target_host,
            "REENTRY_TASK_QUEUE": queue,
            "REENTRY_CODEC_KEYS": TEST_KEY_LINE,
            "REENTRY_RETENTION_CLOSED_TERM": "P0D",
            "REENTRY_RETENTION_MAYORAL_TERM": "P1D",
        }
        ran = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "worker.cli", "retention", "run"],
            capture_output=True,
            text=True,
            env=environment,
            timeout=120,
        )
        assert ran.returncode == 0, ran.stderr
        assert "closed cases erased: 1 " in ran.stdout
        assert "cases whose offence data was erased: 1 " in ran.stdout
        assert "case runs deleted in Temporal: 2" in ran.stdout

        # The running case: the run that held the offence data is gone, a run without it runs on.
        assert await gone(client, serious.case_id, first_run)
        described = await handles[serious.case_id].describe()
        assert described.run_id != first_run and described.status == WorkflowExecutionStatus.RUNNING
        state = await handles[serious.case_id].query(CaseWorkflow.state)
        assert (state.notice.offence_category, state.notice.conviction_final) == (None, None)
        # The closed case: every run gone.
        assert await gone(client, closing.case_id, closed_run)
        assert await gone(client, closing.case_id)
        with Session(engine) as session:
            assert session.get(CaseRow, closing.case_id) is None
            erased = session.execute(select(CaseRow).where(CaseRow.erased_at.is_not(None))).scalars().all()
            assert len(erased) == 1 and erased[0].closed_at is None
            row = session.get(CaseRow, serious.case_id)
            assert (row.offence_category, row.offence_erased_at is not None) == (None, True)
        await handles[serious.case_id].execute_update(
            CaseWorkflow.record_event, RecordEventInput(actor="test", event={"type": "closed", "note": "test"})
        )

"""``reentry replay``: the histories of running cases, replayed against this release's code
before it is deployed, on a real Temporal dev server (the time-skipping server lists no
workflows)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from temporalio import workflow

from core.commands import start_case
from domain.models import CompleteTaskInput, local_date
from domain.policy import load_policy
from tests.helpers import STAND_INS, TEST_KEY_LINE, notice
from worker.replay import replay_running
from worker.temporal import build_worker
from workflows.case import CaseWorkflow

BIN = Path(sys.prefix) / "bin"


@workflow.defn(name="CaseWorkflow", sandboxed=False)
class CaseWorkflowChangedCarelessly:
    """A release whose case waits a day before anything else: no running case can take it."""

    @workflow.run
    async def run(self, case: Any) -> None:
        await workflow.sleep(timedelta(days=1))


async def test_running_cases_replay_against_this_code_and_a_breaking_change_is_named(dev_env, engine: Engine):
    client, queue = dev_env.client, f"replay-{uuid.uuid4()}"
    today = local_date(datetime.now(UTC))
    cases = [notice(today), notice(today - timedelta(days=3))]
    async with build_worker(client, queue, engine, STAND_INS):
        for case in cases:
            await start_case(client, case, policy=load_policy(), task_queue=queue)
        handle = client.get_workflow_handle_for(CaseWorkflow.run, cases[0].case_id)
        await handle.execute_update(
            CaseWorkflow.complete_task,
            CompleteTaskInput.model_validate(
                {
                    "task_key": "contact_prison",
                    "actor": "anna",
                    "outcome": {"kind": "contact", "contacted_on": str(today)},
                }
            ),
        )
    only_these = f'TaskQueue = "{queue}" AND ExecutionStatus = "Running"'

    ran = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "worker.cli", "replay", "--query", only_these],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "REENTRY_TEMPORAL_ADDRESS": client.service_client.config.target_host,
            "REENTRY_CODEC_KEYS": TEST_KEY_LINE,
        },
        timeout=120,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "replayed 2 workflows against this release's code: 0 failed" in ran.stdout

    report = await replay_running(client, only_these, workflows=[CaseWorkflowChangedCarelessly])
    assert report.replayed == 2
    assert set(report.failed) == {case.case_id for case in cases}
    assert all("Nondeterminism" in failure for failure in report.failed.values())

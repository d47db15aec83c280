"""Replaying the histories of running workflows against this release's code, before it is
deployed: a change that a running case cannot take fails here, not in service.

The histories stay where they are (in Temporal, encrypted); they are fetched, replayed in
memory with the configured keys and forgotten. What is printed names workflows by their
pseudonymous ids only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from temporalio.client import Client
from temporalio.worker import Interceptor as WorkerInterceptor
from temporalio.worker import Replayer

from worker.temporal import WORKFLOWS

RUNNING = 'ExecutionStatus = "Running"'


@dataclass
class ReplayReport:
    replayed: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # workflow id -> the error's type and message


async def replay_running(
    client: Client, query: str = RUNNING, limit: int | None = None, workflows: Sequence[type] = WORKFLOWS
) -> ReplayReport:
    """Replay the histories of the workflows ``query`` finds (every running one, by
    default), at most ``limit``, with the client's data converter."""
    # The client's worker interceptors: the signature check among them, as on a worker.
    interceptors = [i for i in client.config()["interceptors"] if isinstance(i, WorkerInterceptor)]
    replayer = Replayer(workflows=workflows, data_converter=client.data_converter, interceptors=interceptors)
    report = ReplayReport()
    histories = client.list_workflows(query, limit=limit).map_histories()
    async with replayer.workflow_replay_iterator(histories) as results:
        async for result in results:
            report.replayed += 1
            if result.replay_failure is not None:
                failure = result.replay_failure
                report.failed[result.history.workflow_id] = f"{type(failure).__name__}: {failure}"
    return report

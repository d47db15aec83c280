"""Rebuild the read model from Temporal, the source of truth."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from sqlalchemy import Engine
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError

from core.pseudonyms import person_keys_of
from domain.projection import project
from store.projection import write_projection
from workflows.case import CaseWorkflow

logger = logging.getLogger("reentry.rebuild")

OPEN_CASES = "WorkflowType = 'CaseWorkflow' AND ExecutionStatus = 'Running'"


@dataclass
class Rebuilt:
    written: int = 0
    unreachable: list[str] = field(default_factory=list)


async def rebuild_projection(client: Client, engine: Engine, *, query: str = OPEN_CASES) -> Rebuilt:
    """Write every open case afresh from its workflow state.

    Safe while the workers run: a case's own projection of a newer revision wins. A case
    that cannot be queried (no worker for its task queue) is named and skipped.
    """
    rebuilt = Rebuilt()
    keys = person_keys_of(client)
    async for execution in client.list_workflows(query):
        handle = client.get_workflow_handle_for(CaseWorkflow.run, execution.id)
        try:
            state = await handle.query(CaseWorkflow.state)
        except (RPCError, WorkflowQueryFailedError) as err:
            logger.warning("%s skipped: %s", execution.id, type(err).__name__)
            rebuilt.unreachable.append(execution.id)
            continue
        key = keys.current(state.notice.person.bsn) if keys else None
        written = await asyncio.to_thread(
            write_projection, engine, project(state), same_revision_too=True, person_key=key
        )
        if written:
            rebuilt.written += 1
    logger.info("rebuilt %d open cases, %d unreachable", rebuilt.written, len(rebuilt.unreachable))
    return rebuilt

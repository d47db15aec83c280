"""Calls into Temporal from a route: by their deadline or a 503, and an update's
failures as problems. Shared by the case's routes, the worklists and the mayoral notice's."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from api.problems import Problem, from_rpc_error, from_update_failure, not_answered
from domain.models import CaseState
from workflows.case import CaseWorkflow

SelfType = TypeVar("SelfType")
T = TypeVar("T")
UpdateInput = TypeVar("UpdateInput")
UpdateResult = TypeVar("UpdateResult")


async def answered(call: Awaitable[T], timeout: timedelta) -> T:
    """What a call into Temporal answers within ``timeout``, or the 503 the API promises.

    The deadline is the API's own: the SDK's RPC timeout alone does not keep it, because
    the server ends an update's long poll before the RPC times out and the SDK polls
    again, for as long as no worker takes the update. An update admitted before the
    deadline may still be applied later; sending it again is safe.
    """
    try:
        return await asyncio.wait_for(call, timeout.total_seconds())
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
        raise not_answered(timeout) from err
    except RPCError as err:
        # A query no worker answers, or a frontend that is not there.
        if err.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.UNAVAILABLE, RPCStatusCode.CANCELLED):
            raise not_answered(timeout) from err
        raise


async def run_update(
    handle: WorkflowHandle[SelfType, Any],
    update: UpdateMethodMultiParam[[SelfType, UpdateInput], UpdateResult],
    arg: UpdateInput,
    *,
    timeout: timedelta,
    closed: Problem,
    missing: Problem,
    update_id: str | None = None,
) -> UpdateResult:
    """Run one update, typed as the SDK's ``execute_update``: the input is the one the
    update takes, the result the one it gives. A workflow that has completed takes no
    updates any more: ``closed``; one that is not there: ``missing``. ``update_id`` names
    the update (from an Idempotency-Key): Temporal applies one update of an id once."""
    try:
        return await answered(handle.execute_update(update, arg, id=update_id, rpc_timeout=timeout), timeout)
    except WorkflowUpdateFailedError as err:
        raise from_update_failure(err) from err
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        raise (closed if await _has_closed(handle) else missing) from err


async def _has_closed(handle: WorkflowHandle[Any, Any]) -> bool:
    try:
        described = await handle.describe()
    except RPCError:
        return False
    return described.status != WorkflowExecutionStatus.RUNNING


async def case_state(temporal: Client, case_id: str, timeout: timedelta) -> CaseState:
    """A case's whole state, read from the case itself by its deadline, or its problem."""
    handle = temporal.get_workflow_handle_for(CaseWorkflow.run, case_id)
    try:
        return await answered(handle.query(CaseWorkflow.state, rpc_timeout=timeout), timeout)
    except RPCError as err:
        raise from_rpc_error(err, case_id) from err

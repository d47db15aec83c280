"""Running a workflow's update from a route: its failures as problems. Shared by the
case's routes and the mayoral notice's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from api.problems import Problem, from_update_failure, not_answered

SelfType = TypeVar("SelfType")
UpdateInput = TypeVar("UpdateInput")
UpdateResult = TypeVar("UpdateResult")


async def run_update(
    handle: WorkflowHandle[SelfType, Any],
    update: UpdateMethodMultiParam[[SelfType, UpdateInput], UpdateResult],
    arg: UpdateInput,
    *,
    timeout: timedelta,
    closed: Problem,
    missing: Problem,
) -> UpdateResult:
    """Run one update, typed as the SDK's ``execute_update``: the input is the one the
    update takes, the result the one it gives. A workflow that has completed takes no
    updates any more: ``closed``; one that is not there: ``missing``."""
    try:
        return await handle.execute_update(update, arg, rpc_timeout=timeout)
    except WorkflowUpdateFailedError as err:
        raise from_update_failure(err) from err
    except WorkflowUpdateRPCTimeoutOrCancelledError as err:
        raise not_answered(timeout) from err
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

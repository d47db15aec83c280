from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode

from api.deps import ActorDep, CaseIdDep, TemporalDep, UpdateTimeoutDep
from api.problems import case_closed, from_rpc_error, from_update_failure, not_answered
from api.schemas import CaseView, CompleteTaskBody
from domain.models import (
    AssignTaskInput,
    CaseEvent,
    CaseSummary,
    ClaimTaskInput,
    CompleteTaskInput,
    RecordEventInput,
    Task,
    TaskAssignment,
)
from workflows.case import CaseWorkflow

router = APIRouter(prefix="/v1/cases", tags=["cases"])


async def _update(temporal: TemporalDep, timeout: timedelta, case_id: str, update: Any, arg: Any) -> Any:
    handle = temporal.get_workflow_handle_for(CaseWorkflow.run, case_id)
    try:
        return await handle.execute_update(update, arg, rpc_timeout=timeout)
    except WorkflowUpdateFailedError as err:
        raise from_update_failure(err) from err
    except WorkflowUpdateRPCTimeoutOrCancelledError as err:
        raise not_answered(timeout) from err
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND and await _has_closed(handle):
            # A closed case's workflow has completed and takes no updates any more.
            raise case_closed(case_id) from err
        raise from_rpc_error(err, case_id) from err


async def _has_closed(handle: WorkflowHandle) -> bool:
    try:
        described = await handle.describe()
    except RPCError:
        return False
    return described.status != WorkflowExecutionStatus.RUNNING


@router.get("/{case_id}")
async def get_case(case_id: CaseIdDep, temporal: TemporalDep) -> CaseView:
    """The whole state of a case, read from its workflow."""
    handle = temporal.get_workflow_handle_for(CaseWorkflow.run, case_id)
    try:
        state = await handle.query(CaseWorkflow.state)
    except RPCError as err:
        raise from_rpc_error(err, case_id) from err
    return CaseView.from_state(state)


@router.post("/{case_id}/tasks/{task_key}/complete")
async def complete_task(
    case_id: CaseIdDep,
    task_key: str,
    body: CompleteTaskBody,
    actor: ActorDep,
    temporal: TemporalDep,
    timeout: UpdateTimeoutDep,
) -> Task:
    """Complete a task, with the outcome its kind asks for."""
    update = CompleteTaskInput(task_key=task_key, actor=actor, outcome=body.outcome)
    return await _update(temporal, timeout, case_id, CaseWorkflow.complete_task, update)


@router.post("/{case_id}/tasks/{task_key}/claim")
async def claim_task(
    case_id: CaseIdDep, task_key: str, actor: ActorDep, temporal: TemporalDep, timeout: UpdateTimeoutDep
) -> Task:
    """Take a task on as its assignee."""
    return await _update(
        temporal, timeout, case_id, CaseWorkflow.claim_task, ClaimTaskInput(task_key=task_key, actor=actor)
    )


@router.post("/{case_id}/tasks/{task_key}/assign")
async def assign_task(
    case_id: CaseIdDep,
    task_key: str,
    body: TaskAssignment,
    actor: ActorDep,
    temporal: TemporalDep,
    timeout: UpdateTimeoutDep,
) -> Task:
    """Give a task to a person, a team, or both."""
    update = AssignTaskInput(task_key=task_key, actor=actor, assignee=body.assignee, team=body.team)
    return await _update(temporal, timeout, case_id, CaseWorkflow.assign_task, update)


@router.post("/{case_id}/events")
async def record_event(
    case_id: CaseIdDep, event: CaseEvent, actor: ActorDep, temporal: TemporalDep, timeout: UpdateTimeoutDep
) -> CaseSummary:
    """Record an event from outside: screening, plan, release date, release, leave, move, consent, closure."""
    return await _update(
        temporal, timeout, case_id, CaseWorkflow.record_event, RecordEventInput(actor=actor, event=event)
    )

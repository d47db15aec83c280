from __future__ import annotations

from datetime import timedelta
from typing import Annotated, TypeVar

from fastapi import APIRouter, Path, Request
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from api.deps import CaseInReach, TemporalDep, UpdateTimeoutDep, case_in_reach
from api.problems import (
    CASE_PROBLEM_RESPONSES,
    Problem,
    case_closed,
    case_not_found,
    from_rpc_error,
    from_update_failure,
    not_answered,
)
from api.schemas import CaseView, CompleteTaskBody, MayoralCaseView
from api.security import PARTNER_EVENTS, Action, Role
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

router = APIRouter(prefix="/v1/cases", tags=["cases"], responses=CASE_PROBLEM_RESPONSES)

TaskKey = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="a task's key, e.g. id_document")]


UpdateInput = TypeVar("UpdateInput")
UpdateResult = TypeVar("UpdateResult")


async def _update(
    temporal: Client,
    timeout: timedelta,
    case_id: str,
    update: UpdateMethodMultiParam[[CaseWorkflow, UpdateInput], UpdateResult],
    arg: UpdateInput,
) -> UpdateResult:
    """Run one of the case's updates, its failures as problems. Typed as the SDK's
    ``execute_update``: the input is the one the update takes, the result the one it gives."""
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


async def _has_closed(handle: WorkflowHandle[CaseWorkflow, CaseSummary]) -> bool:
    try:
        described = await handle.describe()
    except RPCError:
        return False
    return described.status != WorkflowExecutionStatus.RUNNING


CaseReader = Annotated[CaseInReach, case_in_reach(Action.READ_CASE)]
TaskCompleter = Annotated[CaseInReach, case_in_reach(Action.COMPLETE_TASK)]
TaskClaimer = Annotated[CaseInReach, case_in_reach(Action.CLAIM_TASK)]
TaskAssigner = Annotated[CaseInReach, case_in_reach(Action.ASSIGN_TASK)]
EventRecorder = Annotated[CaseInReach, case_in_reach(Action.RECORD_EVENT)]


@router.get("/{case_id}")
async def get_case(request: Request, case: CaseReader, temporal: TemporalDep) -> CaseView | MayoralCaseView:
    """A case as the caller's purpose allows: whole for casework, the notice for the mayor's office."""
    handle = temporal.get_workflow_handle_for(CaseWorkflow.run, case.case_id)
    try:
        state = await handle.query(CaseWorkflow.state)
    except RPCError as err:
        raise from_rpc_error(err, case.case_id) from err
    if not case.principal.sees(
        state.responsible_municipality, mayoral_notice=state.notice.qualifies_for_mayoral_notice
    ):
        # The read model lagged behind a hand-over: the case itself has the last word.
        request.state.audit.refused = True
        raise case_not_found(case.case_id)
    view = CaseView.from_state(state) if case.principal.casework else MayoralCaseView.from_state(state)
    request.state.audit.target = ",".join(type(view).model_fields)
    return view


@router.post("/{case_id}/tasks/{task_key}/complete")
async def complete_task(
    request: Request,
    case: TaskCompleter,
    task_key: TaskKey,
    body: CompleteTaskBody,
    temporal: TemporalDep,
    timeout: UpdateTimeoutDep,
) -> Task:
    """Complete a task, with the outcome its kind asks for."""
    request.state.audit.target = task_key
    update = CompleteTaskInput(task_key=task_key, actor=case.principal.user, outcome=body.outcome)
    return await _update(temporal, timeout, case.case_id, CaseWorkflow.complete_task, update)


@router.post("/{case_id}/tasks/{task_key}/claim")
async def claim_task(
    request: Request, case: TaskClaimer, task_key: TaskKey, temporal: TemporalDep, timeout: UpdateTimeoutDep
) -> Task:
    """Take a task on as its assignee."""
    request.state.audit.target = task_key
    update = ClaimTaskInput(task_key=task_key, actor=case.principal.user)
    return await _update(temporal, timeout, case.case_id, CaseWorkflow.claim_task, update)


@router.post("/{case_id}/tasks/{task_key}/assign")
async def assign_task(
    request: Request,
    case: TaskAssigner,
    task_key: TaskKey,
    body: TaskAssignment,
    temporal: TemporalDep,
    timeout: UpdateTimeoutDep,
) -> Task:
    """Give a task to a person, a team, or both."""
    request.state.audit.target = task_key
    update = AssignTaskInput(task_key=task_key, actor=case.principal.user, assignee=body.assignee, team=body.team)
    return await _update(temporal, timeout, case.case_id, CaseWorkflow.assign_task, update)


@router.post("/{case_id}/events")
async def record_event(
    request: Request, case: EventRecorder, event: CaseEvent, temporal: TemporalDep, timeout: UpdateTimeoutDep
) -> CaseSummary:
    """Record an event from outside: screening, plan, release date, release, leave, move, consent, closure."""
    request.state.audit.target = event.type
    principal = case.principal
    if not principal.casework and Role.PARTNER_SYSTEM in principal.roles and event.type not in PARTNER_EVENTS:
        request.state.audit.refused = True
        raise Problem(
            403,
            f"a partner system reports only {', '.join(sorted(PARTNER_EVENTS))}; {event.type} is a caseworker's",
            type_="urn:reentry:problem:forbidden",
        )
    update = RecordEventInput(actor=principal.user, event=event)
    return await _update(temporal, timeout, case.case_id, CaseWorkflow.record_event, update)

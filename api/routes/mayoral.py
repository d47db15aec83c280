"""The mayor's track (BIJ): the notices of return and leave of serious offenders, for the
mayor's office only. Its own purpose and its own data: casework gets 404 here, and the
mayor's office gets 404 on casework (``api.security.HIDDEN``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, TypeVar

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import BaseModel
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from api import idempotency
from api.deps import (
    NoticeInReach,
    PolicyDep,
    SessionDep,
    TaskQueueDep,
    TemporalDep,
    UpdateTimeoutDep,
    granted_scope,
    notice_in_reach,
    notice_not_found,
    release,
)
from api.pages import Cursor, Limit, ReadModelItem, read_page
from api.problems import NOTICE_PROBLEM_RESPONSES, PURPOSE_PROBLEM_RESPONSES, Problem, from_update_failure
from api.schemas import CompleteNoticeTaskBody, MayoralNoticeBody, NoticeView
from api.security import Action, Principal, allowed
from api.updates import answered, run_update
from core.commands import NoMayoralTrack, start_notice
from domain.mayoral import (
    CompleteNoticeTaskInput,
    MayoralEvent,
    MayoralEventInput,
    MayoralTask,
    NoticeKind,
    NoticeStatus,
    NoticeSummary,
)
from domain.models import AssignTaskInput, ClaimTaskInput, MunicipalityCode, TaskAssignment
from store import notices
from workflows.mayoral import MayoralNoticeWorkflow

router = APIRouter(tags=["mayoral notices"], responses=PURPOSE_PROBLEM_RESPONSES)

TaskKey = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="a step's key, e.g. assess_risk")]
NoticeReader = Annotated[NoticeInReach, notice_in_reach(Action.READ_MAYORAL_NOTICE)]
TaskCompleter = Annotated[NoticeInReach, notice_in_reach(Action.COMPLETE_MAYORAL_TASK)]
TaskClaimer = Annotated[NoticeInReach, notice_in_reach(Action.CLAIM_MAYORAL_TASK)]
TaskAssigner = Annotated[NoticeInReach, notice_in_reach(Action.ASSIGN_MAYORAL_TASK)]
EventRecorder = Annotated[NoticeInReach, notice_in_reach(Action.RECORD_MAYORAL_EVENT)]


class NoticeAccepted(BaseModel):
    """What the justice information service gets back: where the notice is, and whether
    this sending started it (a repeat finds the same notice)."""

    id: str
    notice_id: str
    created: bool


class NoticeItem(ReadModelItem):
    workflow_id: str
    notice_id: str | None
    municipality: str
    kind: str
    status: str
    starts_on: date
    ends_on: date | None
    unrest_expected: bool
    compressed: bool
    decision: str | None
    open_tasks: int
    overdue_count: int
    closed_reason: str | None
    closed_at: datetime | None
    received_at: datetime


class NoticePage(BaseModel):
    items: list[NoticeItem]
    next_cursor: str | None


@router.post(
    "/v1/notifications/mayoral-notice",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": NoticeAccepted, "description": "A repeat of a notice already received"},
        409: NOTICE_PROBLEM_RESPONSES[409],
    },
)
async def mayoral_notice(
    request: Request,
    principal: Annotated[Principal, allowed(Action.RECEIVE_MAYORAL_NOTICE)],
    notice: MayoralNoticeBody,
    response: Response,
    temporal: TemporalDep,
    policy: PolicyDep,
    task_queue: TaskQueueDep,
    timeout: UpdateTimeoutDep,
    session: SessionDep,
) -> NoticeAccepted:
    """The justice information service's notice to the mayor (BIJ): starts its track, exactly once."""
    request.state.audit.case_id = notice.workflow_id
    existing = notices.notice_row(session, workflow_id=notice.workflow_id)
    principal.sends_for(notice.municipality, existing=existing.municipality if existing else None)
    release(session)
    try:
        receipt = await answered(
            start_notice(temporal, notice, policy=policy, task_queue=task_queue, timeout=timeout), timeout
        )
    except WorkflowUpdateFailedError as err:
        raise from_update_failure(err) from err
    except NoMayoralTrack as err:
        raise Problem(
            409,
            f"this installation's policy ({policy.version}) has no mayoral section: it takes no BIJ notices",
            type_="urn:reentry:problem:no-mayoral-track",
        ) from err
    if not receipt.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/v1/mayoral-notices/{notice.workflow_id}"
    return NoticeAccepted(id=notice.workflow_id, notice_id=receipt.notice_id, created=receipt.created)


@router.get("/v1/mayoral-notices")
def list_notices(
    request: Request,
    principal: Annotated[Principal, allowed(Action.LIST_MAYORAL_NOTICES)],
    session: SessionDep,
    municipality: MunicipalityCode | None = None,
    kind: NoticeKind | None = None,
    status: NoticeStatus | None = None,
    date_from: Annotated[date | None, Query(description="returns and leaves from this day on")] = None,
    date_to: Annotated[date | None, Query(description="returns and leaves up to this day")] = None,
    unrest_expected: bool | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> NoticePage:
    """The notices, soonest return or leave first, filtered, a page at a time."""
    rows, next_cursor = read_page(
        notices.notices_page,
        session=session,
        municipalities=granted_scope(request, principal, municipality),
        kind=kind.value if kind else None,
        status=status.value if status else None,
        date_from=date_from,
        date_to=date_to,
        unrest_expected=unrest_expected,
        cursor=cursor,
        limit=limit,
    )
    return NoticePage(items=[NoticeItem.model_validate(r, from_attributes=True) for r in rows], next_cursor=next_cursor)


@router.get("/v1/mayoral-notices/overview")
def overview(
    request: Request,
    principal: Annotated[Principal, allowed(Action.READ_MAYORAL_OVERVIEW)],
    session: SessionDep,
    municipality: MunicipalityCode | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> notices.NoticeOverview:
    """Notices per month by kind, how many were assessed before their date, the measures
    decided by type, and the open notices' overdue steps. Erased notices still count."""
    return notices.overview(
        session, municipalities=granted_scope(request, principal, municipality), date_from=date_from, date_to=date_to
    )


@router.get("/v1/mayoral-notices/{notice_id}", responses={404: NOTICE_PROBLEM_RESPONSES[404]})
async def get_notice(
    request: Request, notice: NoticeReader, temporal: TemporalDep, timeout: UpdateTimeoutDep
) -> NoticeView:
    """The notice, its steps with their guidance, and what happened."""
    handle = temporal.get_workflow_handle_for(MayoralNoticeWorkflow.run, notice.workflow_id)
    try:
        state = await answered(handle.query(MayoralNoticeWorkflow.state, rpc_timeout=timeout), timeout)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise notice_not_found(notice.workflow_id) from err
        raise
    if state.notice is None or not notice.principal.grants(state.municipality):
        request.state.audit.refused = state.notice is not None
        raise notice_not_found(notice.workflow_id)
    view = NoticeView.from_state(state)
    request.state.audit.target = ",".join(NoticeView.model_fields)
    return view


UpdateInput = TypeVar("UpdateInput")
UpdateResult = TypeVar("UpdateResult")


async def _update(
    request: Request,
    temporal: Client,
    timeout: timedelta,
    workflow_id: str,
    update: UpdateMethodMultiParam[[MayoralNoticeWorkflow, UpdateInput], UpdateResult],
    arg: UpdateInput,
) -> UpdateResult:
    closed = Problem(409, f"mayoral notice {workflow_id!r} is closed", type_="urn:reentry:problem:CaseClosed")
    handle = temporal.get_workflow_handle_for(MayoralNoticeWorkflow.run, workflow_id)
    return await run_update(
        handle,
        update,
        arg,
        timeout=timeout,
        closed=closed,
        missing=notice_not_found(workflow_id),
        update_id=idempotency.update_id(request),
    )


@router.post("/v1/mayoral-notices/{notice_id}/tasks/{task_key}/complete", responses=NOTICE_PROBLEM_RESPONSES)
async def complete_task(
    request: Request,
    notice: TaskCompleter,
    task_key: TaskKey,
    body: CompleteNoticeTaskBody,
    temporal: TemporalDep,
    timeout: UpdateTimeoutDep,
) -> MayoralTask:
    """Complete a step of the playbook, with the outcome it asks for."""
    request.state.audit.target = task_key
    update = CompleteNoticeTaskInput(task_key=task_key, actor=notice.principal.user, outcome=body.outcome)
    return await _update(request, temporal, timeout, notice.workflow_id, MayoralNoticeWorkflow.complete_task, update)


@router.post("/v1/mayoral-notices/{notice_id}/tasks/{task_key}/claim", responses=NOTICE_PROBLEM_RESPONSES)
async def claim_task(
    request: Request, notice: TaskClaimer, task_key: TaskKey, temporal: TemporalDep, timeout: UpdateTimeoutDep
) -> MayoralTask:
    """Take a step on as its assignee."""
    request.state.audit.target = task_key
    update = ClaimTaskInput(task_key=task_key, actor=notice.principal.user)
    return await _update(request, temporal, timeout, notice.workflow_id, MayoralNoticeWorkflow.claim_task, update)


@router.post("/v1/mayoral-notices/{notice_id}/tasks/{task_key}/assign", responses=NOTICE_PROBLEM_RESPONSES)
async def assign_task(
    request: Request,
    notice: TaskAssigner,
    task_key: TaskKey,
    body: TaskAssignment,
    temporal: TemporalDep,
    timeout: UpdateTimeoutDep,
) -> MayoralTask:
    """Give a step to a person, a team, or both."""
    request.state.audit.target = task_key
    update = AssignTaskInput(task_key=task_key, actor=notice.principal.user, assignee=body.assignee, team=body.team)
    return await _update(request, temporal, timeout, notice.workflow_id, MayoralNoticeWorkflow.assign_task, update)


@router.post("/v1/mayoral-notices/{notice_id}/events", responses=NOTICE_PROBLEM_RESPONSES)
async def record_event(
    request: Request, notice: EventRecorder, event: MayoralEvent, temporal: TemporalDep, timeout: UpdateTimeoutDep
) -> NoticeSummary:
    """Record what the justice information service reports: the date moved, the leave
    cancelled, the return happened, re-detained."""
    request.state.audit.target = event.type
    update = MayoralEventInput(actor=notice.principal.user, event=event)
    return await _update(request, temporal, timeout, notice.workflow_id, MayoralNoticeWorkflow.record_event, update)

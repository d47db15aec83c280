"""Worklists and supervisor views, read from the SQL read model."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from temporalio.client import Client

from api.deps import (
    CaseInReach,
    SessionDep,
    TemporalDep,
    TodayDep,
    UpdateTimeoutDep,
    case_in_reach,
    granted_scope,
    release,
)
from api.pages import Cursor, Limit, ReadModelItem, read_page
from api.problems import CASE_PROBLEM_RESPONSES, PURPOSE_PROBLEM_RESPONSES, case_not_found
from api.security import Action, Principal, allowed
from api.updates import case_state
from domain.models import CASE_ID_PATTERN, BasicCondition, ClosedReason, MunicipalityCode, Phase, TaskStatus
from store import queries

router = APIRouter(prefix="/v1", tags=["worklists"], responses=PURPOSE_PROBLEM_RESPONSES)


class TaskItem(ReadModelItem):
    case_id: str
    key: str
    title: str
    municipality: str
    condition: str | None
    team: str
    assignee: str | None
    status: str
    due: datetime | None
    # Why it is due then: "own deadline", or "needed for <task> (due <day>)".
    due_reason: str | None = None
    overdue: bool
    at_risk: bool
    at_risk_reason: str | None
    triage: bool
    escalation_level: str
    priority: int


class TaskPage(BaseModel):
    items: list[TaskItem]
    next_cursor: str | None


class CaseItem(ReadModelItem):
    case_id: str
    revision: int
    municipality: str
    phase: str
    prison: str
    detention_start: date
    expected_release: date | None
    actual_release: date | None
    open_tasks: int
    overdue_count: int
    at_risk_count: int
    closed_reason: str | None
    closed_at: datetime | None
    risk_unseen: bool


class CasePage(BaseModel):
    items: list[CaseItem]
    next_cursor: str | None


class TimelineEntry(ReadModelItem):
    seq: int
    at: datetime
    actor: str
    action: str
    task_key: str | None
    detail: str | None


class Timeline(BaseModel):
    case_id: str
    entries: list[TimelineEntry]


@router.get("/tasks")
def list_tasks(
    request: Request,
    principal: Annotated[Principal, allowed(Action.LIST_TASKS)],
    session: SessionDep,
    assignee: Annotated[str | None, Query(max_length=100, description="a user id, or `me`")] = None,
    team: Annotated[str | None, Query(max_length=64)] = None,
    municipality: MunicipalityCode | None = None,
    condition: BasicCondition | None = None,
    status: TaskStatus = TaskStatus.OPEN,
    due_before: datetime | None = None,
    due_after: datetime | None = None,
    overdue: bool | None = None,
    at_risk: bool | None = None,
    sort: Literal["due", "priority"] = "due",
    cursor: Cursor = None,
    limit: Limit = 50,
) -> TaskPage:
    """The inbox: tasks by due date (or most urgent first), filtered, a page at a time."""
    if assignee == "me":
        assignee = principal.user
    rows, next_cursor = read_page(
        queries.tasks_page,
        session=session,
        municipalities=granted_scope(request, principal, municipality),
        assignee=assignee,
        team=team,
        condition=condition,
        status=status,
        due_before=due_before,
        due_after=due_after,
        overdue=overdue,
        at_risk=at_risk,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    return TaskPage(items=[TaskItem.model_validate(r, from_attributes=True) for r in rows], next_cursor=next_cursor)


@router.get("/cases")
async def list_cases(
    request: Request,
    principal: Annotated[Principal, allowed(Action.LIST_CASES)],
    session: SessionDep,
    temporal: TemporalDep,
    timeout: UpdateTimeoutDep,
    municipality: MunicipalityCode | None = None,
    phase: Phase | None = None,
    expected_release_from: date | None = None,
    expected_release_to: date | None = None,
    has_overdue: bool | None = None,
    at_risk: bool | None = None,
    closed_reason: ClosedReason | None = None,
    risk_unseen: Annotated[
        bool | None, Query(description="true: the cases whose risk information no coordinator has seen yet")
    ] = None,
    person: Annotated[
        str | None,
        Query(
            pattern=CASE_ID_PATTERN.pattern,
            description="a case id: the cases of the same person (by the person key; never a BSN in a URL)",
        ),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> CasePage:
    """Where every case stands, filtered, a page at a time."""
    person_keys = None
    if person is not None:
        person_keys = await _person_keys_of(request, principal, session, temporal, timeout, person)
    rows, next_cursor = read_page(
        queries.cases_page,
        session=session,
        municipalities=granted_scope(request, principal, municipality),
        phase=phase.value if phase else None,
        release_from=expected_release_from,
        release_to=expected_release_to,
        has_overdue=has_overdue,
        at_risk=at_risk,
        closed_reason=closed_reason.value if closed_reason else None,
        person_keys=person_keys,
        risk_unseen=risk_unseen,
        cursor=cursor,
        limit=limit,
    )
    return CasePage(items=[CaseItem.model_validate(r, from_attributes=True) for r in rows], next_cursor=next_cursor)


async def _person_keys_of(
    request: Request, principal: Principal, session: SessionDep, temporal: Client, timeout: timedelta, case_id: str
) -> list[str]:
    """The person keys of a case in reach: from its BSN, read from the case itself, under
    every key of the ring. A case out of reach is answered as one that does not exist."""
    request.state.audit.case_id = case_id
    if queries.case_row(session, case_id=case_id, municipalities=principal.scope) is None:
        request.state.audit.refused = True
        raise case_not_found(case_id)
    release(session)
    state = await case_state(temporal, case_id, timeout)
    return request.app.state.person_keys.every(state.notice.person.bsn)


@router.get("/cases/{case_id}/timeline", responses={404: CASE_PROBLEM_RESPONSES[404]})
def case_timeline(case: Annotated[CaseInReach, case_in_reach(Action.READ_TIMELINE)], session: SessionDep) -> Timeline:
    """What happened in a case, in order, and who did it."""
    entries = queries.timeline(session, case_id=case.case_id)
    return Timeline(
        case_id=case.case_id, entries=[TimelineEntry.model_validate(e, from_attributes=True) for e in entries]
    )


@router.get("/dashboard")
def dashboard(
    request: Request,
    principal: Annotated[Principal, allowed(Action.READ_DASHBOARD)],
    session: SessionDep,
    today: TodayDep,
    municipality: MunicipalityCode | None = None,
    released_from: date | None = None,
    released_to: date | None = None,
) -> queries.Dashboard:
    """Counts per phase, screening per condition, overdue and at risk per team, and the
    outcome for cases released in a period (by default up to today, in the Netherlands)."""
    return queries.dashboard(
        session,
        municipalities=granted_scope(request, principal, municipality),
        released_from=released_from,
        released_to=released_to,
        today=today,
    )

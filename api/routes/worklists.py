"""Worklists and supervisor views, read from the SQL read model."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Header, Query
from pydantic import BaseModel, field_validator

from api.deps import CaseIdDep, SessionDep
from api.problems import Problem, case_not_found
from domain.models import BasicCondition, ClosedReason, MunicipalityCode, Phase, TaskStatus
from store import queries

router = APIRouter(prefix="/v1", tags=["worklists"])
T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=queries.MAX_PAGE)]
Cursor = Annotated[str | None, Query(max_length=500, description="`next_cursor` of the previous page")]


class ReadModelItem(BaseModel):
    """A row of the read model. SQLite hands back its UTC timestamps without a zone."""

    @field_validator("*", mode="after")
    @classmethod
    def _utc(cls, value: object) -> object:
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


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


def _page(call: Callable[..., T], **kwargs: Any) -> T:
    try:
        return call(**kwargs)
    except queries.InvalidCursor as err:
        raise Problem(422, str(err), type_="urn:reentry:problem:invalid-cursor") from err


def _one(municipality: str | None) -> list[str] | None:
    return [municipality] if municipality is not None else None


@router.get("/tasks")
def list_tasks(
    session: SessionDep,
    x_actor: Annotated[str | None, Header(max_length=100)] = None,
    assignee: Annotated[str | None, Query(max_length=100, description="a user id, or `me` (the X-Actor)")] = None,
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
        if not x_actor:
            raise Problem(422, "assignee=me needs the X-Actor header")
        assignee = x_actor
    rows, next_cursor = _page(
        queries.tasks_page,
        session=session,
        municipalities=_one(municipality),
        assignee=assignee,
        team=team,
        condition=condition.value if condition else None,
        status=status.value,
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
def list_cases(
    session: SessionDep,
    municipality: MunicipalityCode | None = None,
    phase: Phase | None = None,
    expected_release_from: date | None = None,
    expected_release_to: date | None = None,
    has_overdue: bool | None = None,
    at_risk: bool | None = None,
    closed_reason: ClosedReason | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> CasePage:
    """Where every case stands, filtered, a page at a time."""
    rows, next_cursor = _page(
        queries.cases_page,
        session=session,
        municipalities=_one(municipality),
        phase=phase.value if phase else None,
        release_from=expected_release_from,
        release_to=expected_release_to,
        has_overdue=has_overdue,
        at_risk=at_risk,
        closed_reason=closed_reason.value if closed_reason else None,
        cursor=cursor,
        limit=limit,
    )
    return CasePage(items=[CaseItem.model_validate(r, from_attributes=True) for r in rows], next_cursor=next_cursor)


@router.get("/cases/{case_id}/timeline")
def case_timeline(case_id: CaseIdDep, session: SessionDep) -> Timeline:
    """What happened in a case, in order, and who did it."""
    if queries.case_row(session, case_id=case_id) is None:
        raise case_not_found(case_id)
    entries = [
        TimelineEntry.model_validate(e, from_attributes=True) for e in queries.timeline(session, case_id=case_id)
    ]
    return Timeline(case_id=case_id, entries=entries)


@router.get("/dashboard")
def dashboard(
    session: SessionDep,
    municipality: MunicipalityCode | None = None,
    released_from: date | None = None,
    released_to: date | None = None,
) -> dict:
    """Counts per phase, screening per condition, overdue and at risk per team, and the
    outcome for cases released in a period."""
    return queries.dashboard(
        session, municipalities=_one(municipality), released_from=released_from, released_to=released_to
    )

"""Read-model queries for worklists and supervisor views. Keyword-only, keyset-paginated."""

from __future__ import annotations

import base64
import json
import statistics
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import Integer, Select, and_, cast, func, or_, select, text, tuple_
from sqlmodel import Session

from domain.models import BasicCondition, Phase, ScreeningStatus, TaskStatus, local_date
from store.tables import ATTENTION, CaseRow, EventRow, ScreeningRow, TaskRow

MAX_PAGE = 200


class InvalidCursor(ValueError):
    pass


def encode_cursor(values: list[Any]) -> str:
    text = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *types: type) -> list[Any]:
    """The values of a cursor this API gave out, one of each of ``types`` in order; any
    other cursor (another shape, objects where strings were, a bool for an int) is an
    ``InvalidCursor``, never a query."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError as err:
        raise InvalidCursor("the cursor is not one this API gave out") from err
    if not isinstance(values, list) or len(values) != len(types):
        raise InvalidCursor("the cursor is not one this API gave out")
    for value, expected in zip(values, types, strict=True):
        if type(value) is not expected:
            raise InvalidCursor("the cursor is not one this API gave out")
    return values


def _utc(value: datetime) -> datetime:
    """Compare in UTC, as stored; a time without a zone is taken as UTC."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _as_datetime(value: str) -> datetime:
    try:
        return _utc(datetime.fromisoformat(value))
    except (TypeError, ValueError) as err:
        raise InvalidCursor("the cursor is not one this API gave out") from err


def tasks_page(
    session: Session,
    *,
    municipalities: list[str] | None = None,
    assignee: str | None = None,
    team: str | None = None,
    condition: BasicCondition | None = None,
    status: TaskStatus | None = TaskStatus.OPEN,
    due_before: datetime | None = None,
    due_after: datetime | None = None,
    overdue: bool | None = None,
    at_risk: bool | None = None,
    sort: Literal["due", "priority"] = "due",
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[TaskRow], str | None]:
    """A worklist page in a stable order: by due date (no date last), or most urgent first."""
    query = select(TaskRow)
    filters = {
        TaskRow.assignee: assignee,
        TaskRow.team: team,
        TaskRow.condition: condition,
        TaskRow.status: status,
        TaskRow.overdue: overdue,
        TaskRow.at_risk: at_risk,
    }
    for column, value in filters.items():
        if value is not None:
            query = query.where(column == value)
    if municipalities is not None:
        query = query.where(TaskRow.municipality.in_(municipalities))
    if due_before is not None:
        query = query.where(TaskRow.due < _utc(due_before))
    if due_after is not None:
        query = query.where(TaskRow.due >= _utc(due_after))
    key = (TaskRow.due_sort, TaskRow.case_id, TaskRow.key)
    if sort == "priority":
        query = query.order_by(TaskRow.priority.desc(), *key)
        if cursor:
            priority, due_sort, case_id, task_key = decode_cursor(cursor, int, str, str, str)
            after = tuple_(*key) > tuple_(_as_datetime(due_sort), case_id, task_key)
            query = query.where(or_(TaskRow.priority < priority, and_(TaskRow.priority == priority, after)))
    else:
        query = query.order_by(*key)
        if cursor:
            due_sort, case_id, task_key = decode_cursor(cursor, str, str, str)
            query = query.where(tuple_(*key) > tuple_(_as_datetime(due_sort), case_id, task_key))
    limit = max(1, min(limit, MAX_PAGE))
    rows = list(session.execute(query.limit(limit + 1)).scalars())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        position = [last.due_sort, last.case_id, last.key]
        next_cursor = encode_cursor([last.priority, *position] if sort == "priority" else position)
    return rows, next_cursor


def cases_page(
    session: Session,
    *,
    municipalities: list[str] | None = None,
    phase: str | None = None,
    release_from: date | None = None,
    release_to: date | None = None,
    has_overdue: bool | None = None,
    at_risk: bool | None = None,
    closed_reason: str | None = None,
    person_keys: list[str] | None = None,
    risk_unseen: bool | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[CaseRow], str | None]:
    # An erased case's anonymous row is counted by the dashboard, never listed.
    query = select(CaseRow).where(CaseRow.erased_at.is_(None))
    if person_keys is not None:
        query = query.where(CaseRow.person_key.in_(person_keys))
    if municipalities is not None:
        query = query.where(CaseRow.municipality.in_(municipalities))
    if phase is not None:
        query = query.where(CaseRow.phase == phase)
    if release_from is not None:
        query = query.where(CaseRow.expected_release >= release_from)
    if release_to is not None:
        query = query.where(CaseRow.expected_release <= release_to)
    if has_overdue is not None:
        query = query.where((CaseRow.overdue_count > 0) == has_overdue)
    if at_risk is not None:
        query = query.where((CaseRow.at_risk_count > 0) == at_risk)
    if closed_reason is not None:
        query = query.where(CaseRow.closed_reason == closed_reason)
    if risk_unseen is not None:
        query = query.where(CaseRow.risk_unseen.is_(risk_unseen))
    if cursor:
        [after] = decode_cursor(cursor, str)
        query = query.where(CaseRow.case_id > after)
    limit = max(1, min(limit, MAX_PAGE))
    rows = list(session.execute(query.order_by(CaseRow.case_id).limit(limit + 1)).scalars())
    if len(rows) > limit:
        return rows[:limit], encode_cursor([rows[limit - 1].case_id])
    return rows, None


def case_row(session: Session, *, case_id: str, municipalities: list[str] | None = None) -> CaseRow | None:
    query = select(CaseRow).where(CaseRow.case_id == case_id, CaseRow.erased_at.is_(None))
    if municipalities is not None:
        query = query.where(CaseRow.municipality.in_(municipalities))
    return session.execute(query).scalar_one_or_none()


def cases_of_person(
    session: Session, *, person_keys: list[str], municipalities: list[str] | None, but: str
) -> list[CaseRow]:
    """The other cases of the same person (by any of their person keys), oldest first, in
    these municipalities; never an erased one."""
    query = select(CaseRow).where(
        CaseRow.person_key.in_(person_keys), CaseRow.case_id != but, CaseRow.erased_at.is_(None)
    )
    if municipalities is not None:
        query = query.where(CaseRow.municipality.in_(municipalities))
    return list(session.execute(query.order_by(CaseRow.detention_start, CaseRow.case_id).limit(50)).scalars())


def cases_waiting_for(session: Session, *, person_keys: list[str], next_case_id: str) -> list[str]:
    """The open cases of this person (by any of their person keys) that were told of a
    re-detention whose case is ``next_case_id``, before that case existed."""
    query = select(CaseRow.case_id).where(
        CaseRow.next_case_id == next_case_id,
        CaseRow.person_key.in_(person_keys),
        CaseRow.phase != "closed",
        CaseRow.erased_at.is_(None),
    )
    return list(session.execute(query.order_by(CaseRow.case_id)).scalars())


def case_municipalities(session: Session, *, case_ids: list[str]) -> dict[str, str]:
    """The municipality of each case of ``case_ids`` the read model holds (not erased)."""
    query = select(CaseRow.case_id, CaseRow.municipality).where(
        CaseRow.case_id.in_(case_ids), CaseRow.erased_at.is_(None)
    )
    return {case_id: municipality for case_id, municipality in session.execute(query)}


def timeline(session: Session, *, case_id: str) -> list[EventRow]:
    query = select(EventRow).where(EventRow.case_id == case_id).order_by(EventRow.seq)
    return list(session.execute(query).scalars())


class TeamAttention(BaseModel):
    """A team's open tasks that need attention."""

    overdue: int
    at_risk: int


class ReleasedInPeriod(BaseModel):
    """The cases released in a period, and how they were released. The API names the
    period's days ``from`` and ``to``."""

    released_from: date | None = Field(serialization_alias="from", description="the first day; None: from the start")
    released_to: date = Field(serialization_alias="to", description="the last day, by default today in the Netherlands")
    cases: int
    with_id_income_and_housing_in_order: float | None = Field(
        description="the share released with ID, income and housing in order on the day; None without cases"
    )
    median_days_benefit_application_to_decision: float | None


class Dashboard(BaseModel):
    """The supervisor's view of the read model."""

    cases_per_phase: dict[Phase, int]
    screening: dict[BasicCondition, dict[ScreeningStatus, float]] = Field(
        description="per basic condition of the open cases, the share of each screening status"
    )
    teams: dict[str, TeamAttention]
    released: ReleasedInPeriod


def dashboard(
    session: Session,
    *,
    municipalities: list[str] | None = None,
    released_from: date | None = None,
    released_to: date | None = None,
    today: date | None = None,
) -> Dashboard:
    """Counts per phase, screening shares per condition, overdue and at risk per team, and
    for the cases released in the period: released with ID, income and housing in order,
    and the median days from benefit application to decision."""

    def scoped(query: Select, table: type[CaseRow | ScreeningRow | TaskRow] = CaseRow) -> Select:
        return query.where(table.municipality.in_(municipalities)) if municipalities is not None else query

    phases = {
        Phase(phase): count
        for phase, count in session.execute(scoped(select(CaseRow.phase, func.count()).group_by(CaseRow.phase)))
    }

    screening_query = (
        select(ScreeningRow.condition, ScreeningRow.status, func.count())
        .where(ScreeningRow.case_open)
        .group_by(ScreeningRow.condition, ScreeningRow.status)
    )
    screening: dict[BasicCondition, dict[ScreeningStatus, float]] = {}
    totals: dict[str, int] = {}
    counted = session.execute(scoped(screening_query, ScreeningRow)).all()
    for condition, _status, count in counted:
        totals[condition] = totals.get(condition, 0) + count
    for condition, status, count in counted:
        screening.setdefault(BasicCondition(condition), {})[ScreeningStatus(status)] = round(
            count / totals[condition], 4
        )

    team_query = (
        select(
            TaskRow.team,
            func.sum(cast(TaskRow.overdue, Integer)),
            func.sum(cast(TaskRow.at_risk, Integer)),
        )
        # Written as the partial index's predicate, literally, so that PostgreSQL uses it
        # also for a prepared statement.
        .where(text(ATTENTION))
        .group_by(TaskRow.team)
    )
    teams = {
        team: TeamAttention(overdue=int(overdue or 0), at_risk=int(at_risk or 0))
        for team, overdue, at_risk in session.execute(scoped(team_query, TaskRow)).all()
    }

    # Today where the municipalities are, not in UTC: a day behind after Dutch midnight.
    released_to = released_to or today or local_date(datetime.now(UTC))
    released_query = select(
        func.count(),
        func.count().filter(
            CaseRow.released_with_id.is_(True),
            CaseRow.released_with_income.is_(True),
            CaseRow.released_with_housing.is_(True),
        ),
    ).where(CaseRow.actual_release.is_not(None), CaseRow.actual_release <= released_to)
    if released_from is not None:
        released_query = released_query.where(CaseRow.actual_release >= released_from)
    released, all_in_order = session.execute(scoped(released_query)).one()
    durations_query = (
        select(CaseRow.benefit_applied_on, CaseRow.benefit_decided_on)
        .where(CaseRow.benefit_decided_on.is_not(None), CaseRow.benefit_applied_on.is_not(None))
        .where(CaseRow.actual_release.is_not(None), CaseRow.actual_release <= released_to)
    )
    if released_from is not None:
        durations_query = durations_query.where(CaseRow.actual_release >= released_from)
    days = [(decided - applied).days for applied, decided in session.execute(scoped(durations_query)).all()]
    return Dashboard(
        cases_per_phase=phases,
        screening=screening,
        teams=teams,
        released=ReleasedInPeriod(
            released_from=released_from,
            released_to=released_to,
            cases=released,
            with_id_income_and_housing_in_order=round(all_in_order / released, 4) if released else None,
            median_days_benefit_application_to_decision=statistics.median(days) if days else None,
        ),
    )


def open_cases_per_phase(session: Session) -> list[tuple[str, str, int]]:
    """``(municipality, phase, count)`` of the cases not closed: for the metrics endpoint,
    from the index on municipality and phase alone."""
    query = (
        select(CaseRow.municipality, CaseRow.phase, func.count())
        .where(CaseRow.phase != Phase.CLOSED.value)
        .group_by(CaseRow.municipality, CaseRow.phase)
    )
    return [(municipality, phase, count) for municipality, phase, count in session.execute(query).all()]


def tasks_needing_attention(session: Session) -> list[tuple[str, str, int, int]]:
    """``(municipality, team, overdue, at risk)`` of the open tasks: for the metrics
    endpoint, from the partial index that holds just those tasks."""
    query = (
        select(
            TaskRow.municipality,
            TaskRow.team,
            func.sum(cast(TaskRow.overdue, Integer)),
            func.sum(cast(TaskRow.at_risk, Integer)),
        )
        .where(text(ATTENTION))
        .group_by(TaskRow.municipality, TaskRow.team)
    )
    return [
        (municipality, team, int(overdue or 0), int(at_risk or 0))
        for municipality, team, overdue, at_risk in session.execute(query).all()
    ]

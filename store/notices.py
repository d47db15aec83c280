"""Read-model queries of the mayor's track (BIJ): the mayor's office's list of notices and
its overview. Keyword-only, keyset-paginated, as ``store.queries`` for cases. An erased
notice's anonymous row is counted by the overview, never listed."""

from __future__ import annotations

from collections import Counter
from datetime import date

from pydantic import BaseModel
from sqlalchemy import select, tuple_
from sqlmodel import Session

from store.queries import MAX_PAGE, InvalidCursor, decode_cursor, encode_cursor
from store.tables import MayoralNoticeRow


def notice_row(session: Session, *, workflow_id: str) -> MayoralNoticeRow | None:
    query = select(MayoralNoticeRow).where(
        MayoralNoticeRow.workflow_id == workflow_id, MayoralNoticeRow.erased_at.is_(None)
    )
    return session.execute(query).scalar_one_or_none()


def notice_exists(session: Session, *, detention_id: str) -> bool:
    """Whether a notice, not erased, names this detention: that it exists, nothing more."""
    query = select(MayoralNoticeRow.workflow_id).where(
        MayoralNoticeRow.detention_id == detention_id, MayoralNoticeRow.erased_at.is_(None)
    )
    return session.execute(query.limit(1)).first() is not None


def notices_page(
    session: Session,
    *,
    municipalities: list[str] | None = None,
    kind: str | None = None,
    status: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    unrest_expected: bool | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[MayoralNoticeRow], str | None]:
    """Notices by the date of their return or leave, soonest first."""
    query = select(MayoralNoticeRow).where(MayoralNoticeRow.erased_at.is_(None))
    if municipalities is not None:
        query = query.where(MayoralNoticeRow.municipality.in_(municipalities))
    filters = {
        MayoralNoticeRow.kind: kind,
        MayoralNoticeRow.status: status,
        MayoralNoticeRow.unrest_expected: unrest_expected,
    }
    for column, value in filters.items():
        if value is not None:
            query = query.where(column == value)
    if date_from is not None:
        query = query.where(MayoralNoticeRow.starts_on >= date_from)
    if date_to is not None:
        query = query.where(MayoralNoticeRow.starts_on <= date_to)
    if cursor:
        starts_on, after = decode_cursor(cursor, str, str)
        try:
            position = date.fromisoformat(starts_on)
        except (TypeError, ValueError) as err:
            raise InvalidCursor("the cursor is not one this API gave out") from err
        query = query.where(tuple_(MayoralNoticeRow.starts_on, MayoralNoticeRow.workflow_id) > (position, after))
    limit = max(1, min(limit, MAX_PAGE))
    order = (MayoralNoticeRow.starts_on, MayoralNoticeRow.workflow_id)
    rows = list(session.execute(query.order_by(*order).limit(limit + 1)).scalars())
    if len(rows) > limit:
        last = rows[limit - 1]
        return rows[:limit], encode_cursor([last.starts_on.isoformat(), last.workflow_id])
    return rows, None


class NoticeMonth(BaseModel):
    month: str  # YYYY-MM of the return or of the leave's first day
    returns: int = 0
    leaves: int = 0
    # Recorded, not acted on: the municipality acts only where unrest is expected.
    filtered: int = 0
    # Of those acted on, how many had their risk assessed before the date.
    assessed_before_date: int = 0


class NoticeOverview(BaseModel):
    """The mayor's office's overview; anonymous, so erased notices still count."""

    months: list[NoticeMonth]
    measures: dict[str, int]
    open_notices: int
    overdue_tasks: int


def overview(
    session: Session,
    *,
    municipalities: list[str] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> NoticeOverview:
    """Notices per month by kind, how many were assessed before their date, the measures
    decided by type, and the open notices' overdue tasks."""
    query = select(
        MayoralNoticeRow.starts_on,
        MayoralNoticeRow.kind,
        MayoralNoticeRow.status,
        MayoralNoticeRow.assessed_before_date,
        MayoralNoticeRow.measure_types,
        MayoralNoticeRow.overdue_count,
    )
    if municipalities is not None:
        query = query.where(MayoralNoticeRow.municipality.in_(municipalities))
    # An erased row keeps the first of its month: a period counts whole months.
    if date_from is not None:
        query = query.where(MayoralNoticeRow.starts_on >= date_from.replace(day=1))
    if date_to is not None:
        query = query.where(MayoralNoticeRow.starts_on <= date_to)
    months: dict[str, NoticeMonth] = {}
    measures: Counter[str] = Counter()
    open_notices = overdue = 0
    for starts_on, kind, status, assessed_before, measure_types, overdue_count in session.execute(query):
        key = starts_on.strftime("%Y-%m")
        month = months.setdefault(key, NoticeMonth(month=key))
        if kind == "leave":
            month.leaves += 1
        else:
            month.returns += 1
        if status == "filtered":
            month.filtered += 1
        if assessed_before:
            month.assessed_before_date += 1
        measures.update(t for t in measure_types.split(",") if t)
        if status == "open":
            open_notices += 1
            overdue += overdue_count
    return NoticeOverview(
        months=[months[k] for k in sorted(months)],
        measures=dict(sorted(measures.items())),
        open_notices=open_notices,
        overdue_tasks=overdue,
    )

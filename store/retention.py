"""Retention in the read model: which cases are due, and erasing them. Idempotent.

A closed case past its term keeps one anonymous row: its municipality, its phase, its
release date, whether ID, income and housing were in order on that day, its benefit
application and decision dates (what ``queries.dashboard`` counts), the short-stay and
unexpected-release flags, its policy version and revision. It gets a random id, so it
no longer leads back to the detention; its tasks, screenings, timeline and
notifications go (the dashboard counts those of open cases only).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, and_, delete, or_, select, update
from sqlmodel import Session

from domain.retention import MAYORAL_OFFENCES
from store.projection import in_utc
from store.tables import CaseRow, EventRow, MayoralNoticeRow, NotificationRow, ScreeningRow, TaskRow

ERASED_ID_PREFIX = "erased-"

# What an erased row no longer says. The rest is what the dashboard counts, or says
# nothing about anyone (the policy version, the revision).
EMPTIED: dict[str, Any] = {
    "person_key": None,
    "prison": None,
    "detention_start": None,
    "expected_release": None,
    "offence_category": None,
    "conviction_final": None,
    "mayoral_notice": False,
    "notified_at": None,
    "open_tasks": 0,
    "overdue_count": 0,
    "at_risk_count": 0,
    "closed_reason": None,
    "closed_at": None,
    "previous_case_id": None,
    "next_case_id": None,
    "risk_unseen": False,
}

_CHILD_TABLES = (TaskRow, ScreeningRow, EventRow, NotificationRow)


def _page(session: Session, query: Any, *, after: str | None, limit: int) -> tuple[list[str], str | None]:
    if after is not None:
        query = query.where(CaseRow.case_id > after)
    ids = list(session.execute(query.order_by(CaseRow.case_id).limit(limit + 1)).scalars())
    if len(ids) > limit:
        return ids[:limit], ids[limit - 1]
    return ids, None


def cases_to_erase(
    session: Session, *, closed_before: datetime, after: str | None = None, limit: int = 100
) -> tuple[list[str], str | None]:
    """Closed cases not yet erased whose closing lies before ``closed_before``; a page in
    case id order, and the id to continue after (None on the last page)."""
    query = select(CaseRow.case_id).where(
        CaseRow.erased_at.is_(None), CaseRow.closed_at.is_not(None), CaseRow.closed_at < closed_before
    )
    return _page(session, query, after=after, limit=limit)


def offences_to_erase(
    session: Session, *, released_on_or_before: date, after: str | None = None, limit: int = 100
) -> tuple[list[str], str | None]:
    """Cases released on or before the day whose offence data qualifies for a mayoral
    notice and is not yet erased. A row whose offence data the case has already dropped
    (its projection came first) but that is not marked erased is due too: the case's
    earlier runs may still hold it."""
    qualifying = and_(
        CaseRow.offence_category.in_(sorted(o.value for o in MAYORAL_OFFENCES)),
        # Unknown (a row written before it was kept) counts as final: erring towards erasure.
        or_(CaseRow.conviction_final.is_(True), CaseRow.conviction_final.is_(None)),
    )
    query = select(CaseRow.case_id).where(
        CaseRow.erased_at.is_(None),
        CaseRow.offence_erased_at.is_(None),
        CaseRow.actual_release.is_not(None),
        CaseRow.actual_release <= released_on_or_before,
        or_(qualifying, CaseRow.offence_category.is_(None)),
    )
    return _page(session, query, after=after, limit=limit)


def erase_offence(engine: Engine, *, case_id: str, erased_at: datetime) -> bool:
    """Empty a case's offence data and mark it erased; False when there was nothing left
    to do (already marked, or no such row)."""
    with Session(engine) as session, session.begin():
        erased = session.execute(
            update(CaseRow)
            .where(CaseRow.case_id == case_id, CaseRow.offence_erased_at.is_(None))
            .values(
                offence_category=None,
                conviction_final=None,
                mayoral_notice=False,
                **in_utc({"offence_erased_at": erased_at}),
            )
        ).rowcount
    return bool(erased)


def erase_case(engine: Engine, *, case_id: str, erased_at: datetime) -> bool:
    """Erase a closed case down to its anonymous row; False when it was erased already
    (its id is gone) or is not closed."""
    with Session(engine) as session, session.begin():
        # With the row lock on PostgreSQL: two passes at once erase a case once.
        closed = session.execute(
            select(CaseRow.case_id)
            .where(CaseRow.case_id == case_id, CaseRow.erased_at.is_(None), CaseRow.closed_at.is_not(None))
            .with_for_update()
        ).scalar_one_or_none()
        if closed is None:
            return False
        for table in _CHILD_TABLES:
            session.execute(delete(table).where(table.case_id == case_id))
        anonymous_id = f"{ERASED_ID_PREFIX}{uuid.uuid4().hex}"
        # Every erased row says it lost its offence data at the same moment as the rest:
        # an earlier moment would tell which of them qualified for a mayoral notice.
        moments = in_utc({"erased_at": erased_at, "offence_erased_at": erased_at})
        session.execute(
            update(CaseRow).where(CaseRow.case_id == case_id).values(case_id=anonymous_id, **EMPTIED, **moments)
        )
    return True


def notices_to_erase(
    session: Session, *, erase_from_on_or_before: date, after: str | None = None, limit: int = 100
) -> tuple[list[str], str | None]:
    """Mayoral notices whose return, or the end of whose leave, lies on or before the day,
    not yet erased: a page of their workflow ids."""
    query = select(MayoralNoticeRow.workflow_id).where(
        MayoralNoticeRow.erased_at.is_(None), MayoralNoticeRow.erase_from <= erase_from_on_or_before
    )
    if after is not None:
        query = query.where(MayoralNoticeRow.workflow_id > after)
    ids = list(session.execute(query.order_by(MayoralNoticeRow.workflow_id).limit(limit + 1)).scalars())
    if len(ids) > limit:
        return ids[:limit], ids[limit - 1]
    return ids, None


def erase_notice(engine: Engine, *, workflow_id: str, erased_at: datetime) -> bool:
    """Make a notice's row anonymous: a random id, no notice or detention id, no offence or
    measure, the month of its date only. What the overview counts stays. False when there
    was nothing left to do."""
    with Session(engine) as session, session.begin():
        row = session.get(MayoralNoticeRow, workflow_id)
        if row is None or row.erased_at is not None:
            return False
        month = row.starts_on.replace(day=1)
        erased = session.execute(
            update(MayoralNoticeRow)
            .where(MayoralNoticeRow.workflow_id == workflow_id)  # type: ignore[arg-type]
            .values(
                **in_utc(
                    {
                        "workflow_id": f"erased-{uuid.uuid4().hex}",
                        "notice_id": None,
                        "detention_id": None,
                        "offence_category": None,
                        "measure": None,
                        "starts_on": month,
                        "ends_on": None,
                        "erase_from": month,
                        "erased_at": erased_at,
                    }
                )
            )
        )
        return bool(erased.rowcount)  # type: ignore[attr-defined]

"""The audit log: appended to by the API, read by auditors. Nothing here updates or deletes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select
from sqlmodel import Session

from store.queries import MAX_PAGE, decode_cursor, encode_cursor
from store.tables import AuditRow


def append(engine: Engine, *rows: dict[str, object], **values: object) -> None:
    """One row (``values``), or several that share them (``rows``, each with what is its
    own, such as the case), committed together before the caller answers: no record, no
    answer."""
    values.setdefault("at", datetime.now(UTC))
    with engine.begin() as connection:
        connection.execute(insert(AuditRow), [{**values, **row} for row in rows] if rows else [values])


def audit_page(
    session: Session,
    *,
    user_id: str | None = None,
    case_id: str | None = None,
    action: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[AuditRow], str | None]:
    """Newest first."""
    query = select(AuditRow)
    if user_id is not None:
        query = query.where(AuditRow.user_id == user_id)
    if case_id is not None:
        query = query.where(AuditRow.case_id == case_id)
    if action is not None:
        query = query.where(AuditRow.action == action)
    if outcome is not None:
        query = query.where(AuditRow.outcome == outcome)
    if since is not None:
        query = query.where(AuditRow.at >= since.astimezone(UTC))
    if until is not None:
        query = query.where(AuditRow.at < until.astimezone(UTC))
    if cursor:
        [before] = decode_cursor(cursor, int)
        query = query.where(AuditRow.id < before)
    limit = max(1, min(limit, MAX_PAGE))
    rows = list(session.execute(query.order_by(AuditRow.id.desc()).limit(limit + 1)).scalars())
    if len(rows) > limit:
        return rows[:limit], encode_cursor([rows[limit - 1].id])
    return rows, None

"""What the intake of the justice message box keeps: which messages count as done, and
the cursor. Written by the intake activities, read by operators."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlmodel import Session

from store.projection import in_utc, upsert
from store.queries import MAX_PAGE, decode_cursor, encode_cursor
from store.tables import IntakeCursorRow, IntakeMessageRow

MESSAGE_BOX = "message_box"
# What an operator has to look at: a message that could not be understood, or one that
# names a detention reentry has no case of.
HELD = ("unreadable", "unmatched", "conflict")


def done(engine: Engine, message_ids: list[str]) -> set[str]:
    """The ids among these that were acted on or kept aside before."""
    if not message_ids:
        return set()
    with Session(engine) as session:
        query = select(IntakeMessageRow.message_id).where(IntakeMessageRow.message_id.in_(message_ids))
        return set(session.execute(query).scalars())


def record(engine: Engine, **values: object) -> None:
    """One message done; recording it twice keeps the first."""
    values.setdefault("received_at", datetime.now(UTC))
    with Session(engine) as session, session.begin():
        session.execute(upsert(session, IntakeMessageRow).values(**in_utc(values)).on_conflict_do_nothing())


def cursor(engine: Engine, source: str = MESSAGE_BOX) -> str | None:
    with Session(engine) as session:
        row = session.get(IntakeCursorRow, source)
        return row.cursor if row else None


def save_cursor(engine: Engine, value: str | None, source: str = MESSAGE_BOX) -> None:
    values = {"source": source, "cursor": value, "updated_at": datetime.now(UTC)}
    with Session(engine) as session, session.begin():
        statement = upsert(session, IntakeCursorRow).values(**values)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["source"], set_={"cursor": value, "updated_at": values["updated_at"]}
            )
        )


def held_page(
    session: Session, *, cursor: str | None = None, limit: int = 50
) -> tuple[list[IntakeMessageRow], str | None]:
    """Messages an operator has to look at, oldest first."""
    query = select(IntakeMessageRow).where(IntakeMessageRow.outcome.in_(HELD))
    if cursor:
        [after] = decode_cursor(cursor, int)
        query = query.where(IntakeMessageRow.sequence > after)
    limit = max(1, min(limit, MAX_PAGE))
    rows = list(session.execute(query.order_by(IntakeMessageRow.sequence).limit(limit + 1)).scalars())
    if len(rows) > limit:
        return rows[:limit], encode_cursor([rows[limit - 1].sequence])
    return rows, None

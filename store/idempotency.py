"""Requests sent with an ``Idempotency-Key`` and their answers, kept for a day, so that a
client whose answer was lost can send the request again and learn what happened.

The first request with a key reserves it; its answer is stored when it is given (an
answer of 500 or more is not: the request may be sent again and is run again). A repeat
finds the answer, or that the first request is still being answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from store.tables import IdempotencyKeyRow

# How long a key and its answer are kept.
TERM = timedelta(hours=24)


@dataclass(frozen=True)
class Answered:
    """What a key was used for before, and what it was answered; ``status`` None: the
    first request with it is still being answered."""

    fingerprint: str
    status: int | None
    body: bytes | None
    media_type: str | None
    location: str | None


def _answered(row: IdempotencyKeyRow) -> Answered:
    return Answered(row.fingerprint, row.status, row.body, row.media_type, row.location)


def reserve(
    engine: Engine, *, id_hash: str, fingerprint: str, now: datetime, abandoned_after: timedelta
) -> Answered | None:
    """Reserve the key for a request: None if it is this request's now, else what the key
    was used for before. Keys older than ``TERM`` are forgotten on the way.

    A reservation still unanswered after ``abandoned_after`` was left by a process that
    stopped while it answered (a crash): the same request takes it over."""
    with Session(engine) as session:
        session.execute(delete(IdempotencyKeyRow).where(IdempotencyKeyRow.created_at < now - TERM))
        existing = session.get(IdempotencyKeyRow, id_hash)
        if existing is not None:
            if existing.status is None and existing.fingerprint == fingerprint:
                taken_over = session.execute(
                    update(IdempotencyKeyRow)
                    .where(
                        IdempotencyKeyRow.id_hash == id_hash,
                        IdempotencyKeyRow.status.is_(None),
                        IdempotencyKeyRow.created_at < now - abandoned_after,
                    )
                    .values(created_at=now)
                    .execution_options(synchronize_session=False)
                )
                if taken_over.rowcount == 1:
                    session.commit()
                    return None
            session.commit()
            return _answered(existing)
        session.add(IdempotencyKeyRow(id_hash=id_hash, fingerprint=fingerprint, created_at=now))
        try:
            session.commit()
        except IntegrityError:
            # Another request took the key a moment ago.
            session.rollback()
            taken = session.get(IdempotencyKeyRow, id_hash)
            if taken is None:
                raise
            return _answered(taken)
    return None


def answer(
    engine: Engine, *, id_hash: str, status: int, body: bytes, media_type: str | None, location: str | None
) -> None:
    with Session(engine) as session:
        session.execute(
            update(IdempotencyKeyRow)
            .where(IdempotencyKeyRow.id_hash == id_hash)
            .values(status=status, body=body, media_type=media_type, location=location)
        )
        session.commit()


def release(engine: Engine, *, id_hash: str) -> None:
    """Forget a reservation whose request failed: the key may be used again."""
    with Session(engine) as session:
        session.execute(delete(IdempotencyKeyRow).where(IdempotencyKeyRow.id_hash == id_hash))
        session.commit()

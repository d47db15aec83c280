"""The web front's sessions, kept server-side: a browser holds only a random value, the
table only that value's SHA-256, so that a copy of the database signs nobody in."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select, update
from sqlmodel import Session

from store.tables import WebSessionRow


@dataclass(frozen=True)
class WebSession:
    token: str
    user: str | None
    roles: list[str]
    municipalities: list[str]
    csrf: str
    pending: str | None
    created_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    engine: Engine,
    *,
    now: datetime,
    user: str | None = None,
    roles: list[str] | None = None,
    municipalities: list[str] | None = None,
    pending: str | None = None,
) -> WebSession:
    """A new session with a new token and a new CSRF token: a sign-in never keeps the
    session it started from (no fixation)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    row = WebSessionRow(
        id_hash=_hash(token),
        user_id=user,
        roles=",".join(roles or []) or None,
        municipalities=",".join(municipalities or []) or None,
        csrf=csrf,
        pending=pending,
        created_at=now,
        last_seen_at=now,
    )
    with Session(engine) as session:
        session.add(row)
        session.commit()
    return WebSession(token, user, list(roles or []), list(municipalities or []), csrf, pending, now)


def touch(engine: Engine, token: str, *, now: datetime, idle: timedelta, lifetime: timedelta) -> WebSession | None:
    """The session of ``token``, seen now; None (and gone) when it was idle longer than
    ``idle`` or began longer than ``lifetime`` ago."""
    key = _hash(token)
    with Session(engine) as session:
        row = session.exec(select(WebSessionRow).where(WebSessionRow.id_hash == key)).scalars().first()
        if row is None:
            return None
        seen, created = _as_utc(row.last_seen_at, now), _as_utc(row.created_at, now)
        if now - seen > idle or now - created > lifetime:
            session.execute(delete(WebSessionRow).where(WebSessionRow.id_hash == key))
            session.commit()
            return None
        session.execute(update(WebSessionRow).where(WebSessionRow.id_hash == key).values(last_seen_at=now))
        session.commit()
        return WebSession(
            token=token,
            user=row.user_id,
            roles=row.roles.split(",") if row.roles else [],
            municipalities=row.municipalities.split(",") if row.municipalities else [],
            csrf=row.csrf,
            pending=row.pending,
            created_at=created,
        )


def end(engine: Engine, token: str) -> None:
    with engine.begin() as connection:
        connection.execute(delete(WebSessionRow).where(WebSessionRow.id_hash == _hash(token)))


def purge(engine: Engine, *, now: datetime, idle: timedelta) -> int:
    """Forget every session idle longer than ``idle``: the number forgotten."""
    with engine.begin() as connection:
        return connection.execute(delete(WebSessionRow).where(WebSessionRow.last_seen_at < now - idle)).rowcount


def _as_utc(moment: datetime, now: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)

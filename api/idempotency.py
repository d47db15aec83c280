"""``Idempotency-Key`` on every request that changes a case or a notice: a client whose
answer was lost sends the request again with the same key and gets the first answer, not
a 409 about its own change.

The key is the caller's: the same key from another user is another key. It is kept with
its answer for a day (``store.idempotency``). The same key with another request is a 422;
a repeat while the first is still being answered, a 409 (and if that first request's process stopped before it answered,
the repeat takes its place after twice the update timeout). A first answer of 500 or more
is not kept, so the request is run again; and because the key also names the update in
Temporal, an update that was applied after its 503 is not applied twice: Temporal
answers the repeat with the first result.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from api.problems import Problem
from store import idempotency

HEADER = "idempotency-key"
# Visible ASCII, as the IETF draft's examples (a UUID, most often).
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


class Replayed(Exception):
    """A repeat: answered with what the first request was answered."""

    def __init__(self, answered: idempotency.Answered) -> None:
        self.answered = answered


async def begin(request: Request, user: str) -> None:
    """Before a change: reserve the request's key, or answer as the first request was."""
    key = request.headers.get(HEADER)
    if key is None:
        return
    if not _KEY.match(key):
        raise Problem(
            422,
            "Idempotency-Key is 1 to 255 visible ASCII characters, such as a UUID",
            type_="urn:reentry:problem:invalid-idempotency-key",
        )
    id_hash = hashlib.sha256(f"{user}\n{key}".encode()).hexdigest()
    body = await request.body()
    fingerprint = hashlib.sha256(
        b"\n".join([request.method.encode(), request.url.path.encode(), request.url.query.encode(), body])
    ).hexdigest()
    engine = request.app.state.engine
    # A request is answered within the update timeout, 503 or not: a reservation twice as
    # old belongs to an API process that stopped while it answered.
    before = await run_in_threadpool(
        idempotency.reserve,
        engine,
        id_hash=id_hash,
        fingerprint=fingerprint,
        now=datetime.now(UTC),
        abandoned_after=2 * request.app.state.update_timeout,
    )
    if before is None:
        request.state.audit.idempotency = id_hash
        return
    if before.fingerprint != fingerprint:
        raise Problem(
            422,
            "this Idempotency-Key was sent before with another request: use a new key for a new request",
            type_="urn:reentry:problem:idempotency-key-reused",
        )
    if before.status is None:
        problem = Problem(
            409,
            "the first request with this Idempotency-Key is still being answered: send it again in a moment",
            type_="urn:reentry:problem:idempotency-key-in-use",
        )
        raise problem
    raise Replayed(before)


def update_id(request: Request) -> str | None:
    """The id of the update a request sends into Temporal: from its key, so that the
    same request sent again is the same update; None without a key."""
    id_hash = request.state.audit.idempotency
    return f"request-{id_hash[:40]}" if id_hash else None


def replayed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Replayed)
    answered = exc.answered
    headers = {"Idempotent-Replayed": "true"}
    if answered.location:
        headers["Location"] = answered.location
    return Response(
        content=answered.body or b"",
        status_code=answered.status or 200,
        media_type=answered.media_type,
        headers=headers,
    )


async def finish(request: Request, id_hash: str, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    """After a change: keep its answer for the key, or free the key of a failed request."""
    engine = request.app.state.engine
    if status >= 500:
        await run_in_threadpool(idempotency.release, engine, id_hash=id_hash)
        return
    named = {name.lower(): value.decode("latin-1") for name, value in headers}
    await run_in_threadpool(
        idempotency.answer,
        engine,
        id_hash=id_hash,
        status=status,
        body=body,
        media_type=named.get(b"content-type"),
        location=named.get(b"location"),
    )

"""What every request passes through: the body size limit, a request id and the audit log."""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import idempotency
from api.problems import problem_response
from api.security import Action, Principal
from domain.mayoral import NOTICE_ID_PATTERN
from domain.models import CASE_ID_PATTERN
from store import audit

logger = logging.getLogger("reentry.api")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


@dataclass
class AuditNote:
    """What a request did, filled in by its route and dependencies, written when it ends."""

    request_id: str
    action: Action | None = None
    principal: Principal | None = None
    case_id: str | None = None
    target: str | None = None
    # A case outside the caller's grant: answered as not found, logged as refused.
    refused: bool = False
    # A request that reads several cases: one row each, the case and whether it was refused.
    cases: list[tuple[str, bool]] = field(default_factory=list)
    # The key this request reserved (``api.idempotency``): its answer is kept for it.
    idempotency: str | None = None

    def outcome(self, status: int) -> str:
        return "refused" if self.refused or status in (401, 403) else "allowed"


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimit:
    """Refuses a body larger than the limit: at once when it announces its length, and
    as soon as it grows too large when it does not."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await problem_response(Request(scope), 413, str(BodyTooLarge(self.max_bytes).detail))(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI lets an HTTPException from reading the body through to the handlers.
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, limited, send)


class AuditLog:
    """Writes the audit row of every request that touched case data, before the answer
    leaves: the answer is held until its row is committed. No record, no answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        given = request.headers.get("x-request-id", "")
        note = AuditNote(request_id=given if _REQUEST_ID.match(given) else uuid.uuid4().hex)
        scope.setdefault("state", {})["audit"] = note
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        try:
            await self.app(scope, receive, hold)
        except Exception:
            await _write(request, note, 500)
            if note.idempotency:
                await idempotency.finish(request, note.idempotency, 500, [], b"")
            raise
        start = next(m for m in held if m["type"] == "http.response.start")
        if note.idempotency:
            body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
            await idempotency.finish(request, note.idempotency, start["status"], start.get("headers", []), body)
        if note.action is not None:
            try:
                await _write(request, note, start["status"])
            except Exception:
                logger.exception("the audit log cannot be written (request %s)", note.request_id)
                held.clear()
                unavailable = problem_response(request, 503, "the audit log cannot be written; try again later")
                unavailable.headers["Retry-After"] = "5"
                await unavailable(scope, receive, hold)
                start = held[0]
        headers = [*start.get("headers", []), (b"x-request-id", note.request_id.encode())]
        if scope["path"].startswith("/v1/") and not any(name.lower() == b"cache-control" for name, _ in headers):
            # An answer of the API may name a resident: no browser or proxy keeps it.
            headers.append((b"cache-control", b"no-store"))
        start["headers"] = headers
        for message in held:
            await send(message)


def install(app: FastAPI, *, max_body_bytes: int) -> None:
    app.add_middleware(AuditLog)
    # Outermost: a body that announces itself too large is not even read.
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)


async def _write(request: Request, note: AuditNote, status: int) -> None:
    if note.action is None:
        return
    principal = note.principal
    if note.case_id is None:
        # Refused before its dependencies ran: the case or the notice is still named in the path.
        case_id, notice_id = request.path_params.get("case_id", ""), request.path_params.get("notice_id", "")
        note.case_id = (
            case_id if CASE_ID_PATTERN.match(case_id) else notice_id if NOTICE_ID_PATTERN.match(notice_id) else None
        )
    per_case = [
        {"case_id": case_id, "outcome": "refused" if refused else note.outcome(status)}
        for case_id, refused in note.cases
    ]
    await run_in_threadpool(
        audit.append,
        request.app.state.engine,
        *per_case,
        request_id=note.request_id,
        user_id=principal.user if principal else None,
        roles=principal.roles_text if principal else None,
        action=note.action.value,
        case_id=note.case_id,
        target=note.target[:500] if note.target else None,
        outcome=note.outcome(status),
        status=status,
    )

"""Who is signed in to the web front: the session cookie, the idle timeout, CSRF.

A session is kept server-side (``store.sessions``); the browser holds a random value in
an HttpOnly, SameSite=Lax cookie, Secure (and ``__Host-`` prefixed) when reentry is served
over HTTPS. Every form carries the session's CSRF token; a POST without it changes
nothing.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.security import Principal, Role
from core.settings import Settings
from store import sessions
from store.sessions import WebSession


def clock() -> datetime:
    """The time of the request, in UTC: a dependency, so that a test can skip time."""
    return datetime.now(UTC)


Now = Annotated[datetime, Depends(clock)]


def now_of(request: Request) -> datetime:
    """The clock outside a dependency (an error page), as a test may have set it."""
    return request.app.dependency_overrides.get(clock, clock)()


@dataclass(frozen=True)
class SessionRules:
    idle: timedelta
    lifetime: timedelta
    secure: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionRules:
        return cls(
            idle=timedelta(minutes=settings.ui_idle_minutes),
            lifetime=timedelta(hours=settings.ui_session_hours),
            secure=settings.api_url.startswith("https://"),
        )

    @property
    def cookie(self) -> str:
        # The __Host- prefix: only over HTTPS, for this host and path / only.
        return "__Host-reentry" if self.secure else "reentry_session"


class SignInNeeded(Exception):
    """No session, or one that timed out: the page sends the browser to sign in."""

    def __init__(self, timed_out: bool) -> None:
        self.timed_out = timed_out


class CsrfRefused(Exception):
    """A form posted without this session's CSRF token."""


@dataclass(frozen=True)
class SignedIn:
    session: WebSession
    principal: Principal

    @property
    def csrf(self) -> str:
        return self.session.csrf


def rules(request: Request) -> SessionRules:
    return request.app.state.web_sessions


async def current(request: Request, now: datetime) -> WebSession | None:
    """The browser's session, seen now; None if it has none or it timed out."""
    token = request.cookies.get(rules(request).cookie)
    if not token:
        return None
    r = rules(request)
    return await run_in_threadpool(
        sessions.touch, request.app.state.engine, token, now=now, idle=r.idle, lifetime=r.lifetime
    )


def principal_of(session: WebSession) -> Principal:
    return Principal(
        user=session.user or "",
        roles=frozenset(Role(r) for r in session.roles),
        municipalities=frozenset(session.municipalities),
    )


async def signed_in(request: Request, now: Now) -> SignedIn:
    session = await current(request, now)
    if session is None or session.user is None:
        raise SignInNeeded(timed_out=bool(request.cookies.get(rules(request).cookie)))
    signed = SignedIn(session=session, principal=principal_of(session))
    request.state.signed_in = signed
    return signed


SignedInDep = Annotated[SignedIn, Depends(signed_in)]


def check_csrf(signed: SignedIn, token: str | None) -> None:
    if not token or not hmac.compare_digest(token, signed.csrf):
        raise CsrfRefused()


def set_cookie(response: Response, request: Request, token: str) -> None:
    r = rules(request)
    response.set_cookie(
        r.cookie,
        token,
        httponly=True,
        secure=r.secure,
        samesite="lax",
        path="/",
        max_age=int(r.lifetime.total_seconds()),
    )


def clear_cookie(response: Response, request: Request) -> None:
    r = rules(request)
    response.delete_cookie(r.cookie, path="/", secure=r.secure, httponly=True, samesite="lax")

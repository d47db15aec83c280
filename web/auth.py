"""Signing in and out of the web front.

In service the identity provider signs people in (``web.oidc``). On one machine, where
the API trusts the development key and no JWKS is configured, ``/ui/login`` takes a plain
form (``user``, ``role``, ``municipality``), so that a script signs in as a person does.
Both end in a new server-side session; both are in the audit log.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.problems import Problem
from api.security import Action, Principal, TokenVerifier
from store import sessions
from web import pages
from web.oidc import Provider, SignInFailed
from web.session import Now, SignedInDep, check_csrf, clear_cookie, current, rules, set_cookie

router = APIRouter(prefix="/ui", include_in_schema=False)


def _development(request: Request) -> bool:
    """The development sign-in exists only where the API trusts the development key."""
    return request.app.state.web_development_sign_in


def _provider(request: Request) -> Provider | None:
    return request.app.state.web_provider


def _next(path: str | None) -> str:
    # Only a page of the web front: never elsewhere (an open redirect).
    return path if path and path.startswith("/ui/") and not path.startswith("//") and "\\" not in path else "/ui/"


@router.get("/login", response_class=HTMLResponse)
async def login_page(
    request: Request,
    verlopen: Annotated[str | None, Query(max_length=5)] = None,
    uitgelogd: Annotated[str | None, Query(max_length=5)] = None,
) -> Response:
    return pages.render(
        request,
        "login.html",
        None,
        title="Inloggen",
        development=_development(request),
        provider=_provider(request) is not None,
        timed_out=bool(verlopen),
        signed_out=bool(uitgelogd),
        roles=pages.labels.ROLES,
        error=None,
    )


async def _start_session(request: Request, principal: Principal, now, next_path: str) -> Response:
    engine = request.app.state.engine
    await run_in_threadpool(sessions.purge, engine, now=now, idle=rules(request).idle)
    session = await run_in_threadpool(
        sessions.create,
        engine,
        now=now,
        user=principal.user,
        roles=sorted(principal.roles),
        municipalities=sorted(principal.municipalities),
    )
    note = request.state.audit
    note.action, note.principal = Action.SIGN_IN, principal
    response = RedirectResponse(_next(next_path), status_code=303)
    set_cookie(response, request, session.token)
    return response


@router.post("/login", response_class=HTMLResponse)
async def development_login(request: Request, now: Now) -> Response:
    """The development sign-in: the same claims a token of ``reentry token`` carries,
    checked as the API checks a token's."""
    if not _development(request):
        return pages.render(request, "not_found.html", None, status=404, title="Niet gevonden")
    form = await request.form()
    user = str(form.get("user", "")).strip()
    roles = [str(r) for r in form.getlist("role") if str(r).strip()]
    municipalities = [m for value in form.getlist("municipality") for m in str(value).replace(",", " ").split()]
    verifier: TokenVerifier = request.app.state.verifier
    note = request.state.audit
    note.action = Action.SIGN_IN
    try:
        principal = verifier.principal({"sub": user, "roles": roles, "municipalities": municipalities})
    except Problem as refusal:
        note.refused = True
        return pages.render(
            request,
            "login.html",
            None,
            status=422,
            title="Inloggen",
            development=True,
            provider=_provider(request) is not None,
            timed_out=False,
            signed_out=False,
            roles=pages.labels.ROLES,
            error=refusal.detail,
        )
    return await _start_session(request, principal, now, str(form.get("next", "")))


@router.get("/login/oidc")
async def oidc_login(request: Request, now: Now, next: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    provider = _provider(request)
    if provider is None:
        return pages.render(request, "not_found.html", None, status=404, title="Niet gevonden")
    try:
        url, pending = await provider.start(_next(next))
    except SignInFailed as err:
        return pages.render(
            request,
            "problem.html",
            None,
            status=503,
            title="Inloggen lukt nu niet",
            message="De inlogdienst antwoordt nu niet. Probeer het zo opnieuw.",
            detail=str(err),
        )
    session = await run_in_threadpool(sessions.create, request.app.state.engine, now=now, pending=pending)
    response = RedirectResponse(url, status_code=303)
    set_cookie(response, request, session.token)
    return response


@router.get("/auth/callback")
async def oidc_callback(
    request: Request,
    now: Now,
    code: Annotated[str | None, Query(max_length=2000)] = None,
    state: Annotated[str | None, Query(max_length=500)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    provider = _provider(request)
    pending = await current(request, now)
    note = request.state.audit
    note.action = Action.SIGN_IN
    if provider is None or pending is None or pending.pending is None or not code or not state:
        note.refused = True
        detail = f"de inlogdienst meldt: {error}" if error else "de inlogpoging is onbekend of verlopen"
        return pages.render(
            request,
            "problem.html",
            None,
            status=400,
            title="Inloggen mislukt",
            message="Inloggen is niet gelukt. Begin opnieuw.",
            detail=detail,
        )
    await run_in_threadpool(sessions.end, request.app.state.engine, pending.token)
    try:
        access_token, next_path = await provider.finish(pending.pending, code=code, state=state)
        verifier: TokenVerifier = request.app.state.verifier
        principal = await asyncio.to_thread(verifier.verify, access_token)
    except (SignInFailed, Problem) as err:
        note.refused = True
        detail = err.detail if isinstance(err, Problem) else str(err)
        return pages.render(
            request,
            "problem.html",
            None,
            status=401,
            title="Inloggen mislukt",
            message="Inloggen is niet gelukt.",
            detail=detail,
        )
    return await _start_session(request, principal, now, next_path)


@router.post("/logout")
async def logout(request: Request, signed: SignedInDep) -> Response:
    form = await request.form()
    check_csrf(signed, str(form.get("csrf", "")))
    await run_in_threadpool(sessions.end, request.app.state.engine, signed.session.token)
    note = request.state.audit
    note.action, note.principal = Action.SIGN_OUT, signed.principal
    response = RedirectResponse("/ui/login?uitgelogd=1", status_code=303)
    clear_cookie(response, request)
    return response

"""The web front, mounted on the API's app under /ui: its routes, its styles, its error
pages and the security headers of every page."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.settings import Settings
from web import auth, pages
from web.oidc import Provider
from web.session import CsrfRefused, SessionRules, SignedIn, SignInNeeded, clear_cookie, current, now_of, principal_of

HERE = Path(__file__).parent
STATIC = HERE / "static"
VENDOR = STATIC / "vendor"
DEFAULT_THEME = VENDOR / "utrecht-theme.css"


class StylesNotBuilt(RuntimeError):
    """The NL Design System styles were not installed (``make install`` builds them)."""


def _content_security_policy() -> str:
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ]
    )


SECURITY_HEADERS = [
    (b"content-security-policy", _content_security_policy().encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class SecurityHeaders:
    """Every answer under /ui: the security headers; the pages also never cached, as they
    show case data."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (scope["path"] == "/" or scope["path"].startswith("/ui")):
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/ui/static/") or scope["path"] == "/ui/theme.css"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"cache-control"]
                headers += SECURITY_HEADERS
                headers.append((b"cache-control", b"public, max-age=3600" if static else b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def install(app: FastAPI, settings: Settings) -> None:
    """Mount the web front on the API's app."""
    if not (VENDOR / "utrecht-components.css").exists():
        raise StylesNotBuilt(f"the web front's styles are not in {VENDOR}: `make install` builds them")
    theme = settings.ui_theme_css or DEFAULT_THEME
    if not theme.is_file():
        raise StylesNotBuilt(f"REENTRY_UI_THEME_CSS names {theme}, which is not a file")
    app.state.web_sessions = SessionRules.from_settings(settings)
    app.state.web_development_sign_in = not settings.auth_jwks_url
    app.state.web_provider = Provider.from_settings(settings)
    app.state.web_theme = theme
    pages.templates.env.globals["theme_class"] = settings.ui_theme_class

    app.include_router(auth.router)
    app.include_router(pages.router)
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")

    @app.get("/", include_in_schema=False)
    def _home() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=303)

    @app.get("/ui", include_in_schema=False)
    def _ui() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=303)

    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, exc: SignInNeeded) -> Response:
        where = "/ui/login?verlopen=1" if exc.timed_out else "/ui/login"
        response = RedirectResponse(where, status_code=303)
        if exc.timed_out:
            clear_cookie(response, request)
        return response

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, exc: CsrfRefused) -> Response:
        return pages.render(
            request,
            "problem.html",
            getattr(request.state, "signed_in", None),
            status=403,
            title="Formulier geweigerd",
            message="Dit formulier is verlopen of komt niet van deze site. Er is niets gewijzigd.",
            detail="Open de pagina opnieuw en probeer het nog eens.",
        )

    api_http_handler = app.exception_handlers[StarletteHTTPException]

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if not request.url.path.startswith("/ui"):
            return await api_http_handler(request, exc)
        signed = None
        session = await current(request, now_of(request)) if request.cookies else None
        if session is not None and session.user:
            signed = SignedIn(session=session, principal=principal_of(session))
        template = "not_found.html" if exc.status_code == 404 else "problem.html"
        return pages.render(
            request,
            template,
            signed,
            status=exc.status_code,
            title="Niet gevonden" if exc.status_code == 404 else "Er ging iets mis",
            message="Deze vraag kan de webomgeving niet beantwoorden.",
            detail=str(exc.detail),
        )

    app.add_middleware(SecurityHeaders)

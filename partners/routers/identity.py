"""The municipality's identity provider (Keycloak, ADFS, Entra ID), as OpenID Connect
Core 1.0 and RFC 7636 (PKCE) describe one: discovery, the authorization endpoint, the
token endpoint and the JWKS.

It signs in whoever the sign-in form names, with the roles and municipalities the form
gives: in a municipality, the directory holds those. It refuses what a real provider
refuses: an unknown client or redirect URI (a page, never a redirect), a request without
an S256 code challenge, an unknown or reused code, a verifier that does not match.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

router = APIRouter(prefix="/idp", tags=["identity provider (OpenID Connect)"])

# The clients registered at the provider, and where each may be sent back to.
CLIENTS = {"reentry-web": "/ui/auth/callback"}
AUDIENCE = "reentry"
CODE_TTL = 60
TOKEN_TTL = 300
KEY_ID = "sim-idp-1"


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    claims: dict[str, object]
    expires: float


class Provider:
    """What the provider keeps: its signing key and the codes not yet exchanged."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.codes: dict[str, _Grant] = {}

    def jwk(self) -> dict[str, object]:
        jwk = jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {**jwk, "kid": KEY_ID, "use": "sig", "alg": "ES256"}

    def sign(self, claims: dict[str, object]) -> str:
        return jwt.encode(claims, self.key, algorithm="ES256", headers={"kid": KEY_ID})


def _provider(request: Request) -> Provider:
    state = request.app.state
    if not hasattr(state, "identity_provider"):
        state.identity_provider = Provider()
    return state.identity_provider


def _issuer(request: Request) -> str:
    return f"{str(request.base_url).rstrip('/')}/idp"


def _client_error(detail: str) -> HTMLResponse:
    # Never a redirect to a URI the provider does not know (RFC 6749, 4.1.2.1).
    return HTMLResponse(f"<!doctype html><title>Fout</title><p>{html.escape(detail)}</p>", status_code=400)


def _redirect_error(redirect_uri: str, error: str, state: str | None, description: str) -> RedirectResponse:
    query = {"error": error, "error_description": description, **({"state": state} if state else {})}
    return RedirectResponse(f"{redirect_uri}?{urlencode(query)}", status_code=302)


def _known(client_id: str, redirect_uri: str) -> bool:
    path = CLIENTS.get(client_id)
    return path is not None and redirect_uri.split("?")[0].endswith(path)


@router.get("/.well-known/openid-configuration")
def discovery(request: Request) -> dict[str, object]:
    issuer = _issuer(request)
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/jwks",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_post"],
        "scopes_supported": ["openid", "profile"],
    }


@router.get("/jwks")
def jwks(request: Request) -> dict[str, object]:
    return {"keys": [_provider(request).jwk()]}


@router.get("/authorize", response_class=HTMLResponse)
def authorize(
    request: Request,
    client_id: Annotated[str, Query()] = "",
    redirect_uri: Annotated[str, Query()] = "",
    response_type: Annotated[str, Query()] = "",
    scope: Annotated[str, Query()] = "",
    state: Annotated[str | None, Query()] = None,
    code_challenge: Annotated[str | None, Query()] = None,
    code_challenge_method: Annotated[str | None, Query()] = None,
    nonce: Annotated[str | None, Query()] = None,
) -> Response:
    """The sign-in page: who signs in, with which roles and municipalities."""
    if not _known(client_id, redirect_uri):
        return _client_error("unknown client or redirect URI")
    if response_type != "code":
        return _redirect_error(redirect_uri, "unsupported_response_type", state, "only the code flow")
    if "openid" not in scope.split():
        return _redirect_error(redirect_uri, "invalid_scope", state, "openid is required")
    if not code_challenge or code_challenge_method != "S256":
        return _redirect_error(redirect_uri, "invalid_request", state, "PKCE with S256 is required")
    hidden = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state or "",
        "code_challenge": code_challenge,
        "nonce": nonce or "",
    }
    fields = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(value)}">' for name, value in hidden.items()
    )
    return HTMLResponse(
        '<!doctype html><html lang="nl"><title>Inloggen bij de gemeente</title><form method="post">'
        f"{fields}"
        '<label>Gebruiker <input name="username" required></label>'
        '<label>Rollen <input name="roles" value="caseworker"></label>'
        '<label>Gemeenten <input name="municipalities" value="0855"></label>'
        '<button type="submit">Inloggen</button></form></html>'
    )


@router.post("/authorize")
def sign_in(
    request: Request,
    client_id: Annotated[str, Form()],
    redirect_uri: Annotated[str, Form()],
    code_challenge: Annotated[str, Form()],
    username: Annotated[str, Form()],
    state: Annotated[str, Form()] = "",
    nonce: Annotated[str, Form()] = "",
    roles: Annotated[str, Form()] = "",
    municipalities: Annotated[str, Form()] = "",
) -> Response:
    if not _known(client_id, redirect_uri):
        return _client_error("unknown client or redirect URI")
    provider = _provider(request)
    code = secrets.token_urlsafe(32)
    provider.codes[code] = _Grant(
        client_id=client_id,
        redirect_uri=redirect_uri,
        challenge=code_challenge,
        nonce=nonce or None,
        claims={"sub": username, "roles": roles.split(), "municipalities": municipalities.split()},
        expires=time.time() + CODE_TTL,
    )
    query = {"code": code, **({"state": state} if state else {})}
    return RedirectResponse(f"{redirect_uri}?{urlencode(query)}", status_code=302)


def _token_error(error: str, description: str) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=400, headers={"Cache-Control": "no-store"}
    )


@router.post("/token")
def token(
    request: Request,
    grant_type: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    redirect_uri: Annotated[str, Form()] = "",
    client_id: Annotated[str, Form()] = "",
    code_verifier: Annotated[str, Form()] = "",
) -> JSONResponse:
    if grant_type != "authorization_code":
        return _token_error("unsupported_grant_type", "only authorization_code")
    provider = _provider(request)
    # A code is exchanged once: a second attempt finds it gone.
    grant = provider.codes.pop(code, None)
    if grant is None or grant.expires < time.time():
        return _token_error("invalid_grant", "unknown, used or expired code")
    if grant.client_id != client_id or grant.redirect_uri != redirect_uri:
        return _token_error("invalid_grant", "the code was issued to another client or redirect URI")
    digest = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=").decode()
    if not code_verifier or not secrets.compare_digest(digest, grant.challenge):
        return _token_error("invalid_grant", "the code verifier does not match the challenge")
    now = int(time.time())
    issuer = _issuer(request)
    common = {"iss": issuer, "iat": now, "exp": now + TOKEN_TTL, "sub": grant.claims["sub"]}
    access = provider.sign({**common, **grant.claims, "aud": AUDIENCE, "jti": secrets.token_hex(8)})
    identity = provider.sign({**common, "aud": client_id, **({"nonce": grant.nonce} if grant.nonce else {})})
    return JSONResponse(
        {"access_token": access, "id_token": identity, "token_type": "Bearer", "expires_in": TOKEN_TTL},
        headers={"Cache-Control": "no-store"},
    )

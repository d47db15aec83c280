"""Sign-in at the municipality's identity provider: OpenID Connect's authorization code
flow with PKCE (S256), by Authlib.

The identity provider is the one whose tokens the API trusts: the same issuer, audience
and claims (``REENTRY_AUTH_*``). The access token it returns is verified by the API's own
verifier, and the principal it names is what the session holds; the token itself is not
kept.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.deprecate import AuthlibDeprecationWarning

from core.settings import Settings

with warnings.catch_warnings():
    # Authlib's httpx integration prefers the httpx2 fork and says so on import; reentry
    # uses httpx throughout, which Authlib still supports.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client


class SignInFailed(Exception):
    """The identity provider's answer does not sign anyone in; the message says why."""


@dataclass(frozen=True)
class Provider:
    client_id: str
    client_secret: str | None
    discovery_url: str
    scopes: str
    redirect_uri: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Provider | None:
        """The identity provider, when the web front has a client id there and the API
        trusts its keys; else None (then only the development sign-in may exist)."""
        if not settings.auth_client_id or not settings.auth_jwks_url:
            return None
        issuer = settings.auth_issuer.rstrip("/")
        return cls(
            client_id=settings.auth_client_id,
            client_secret=settings.auth_client_secret.get_secret_value() if settings.auth_client_secret else None,
            discovery_url=settings.auth_discovery_url or f"{issuer}/.well-known/openid-configuration",
            scopes=settings.auth_scopes,
            redirect_uri=f"{settings.api_url}/ui/auth/callback",
        )

    def _client(self) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.client_id,
            client_secret=self.client_secret,
            scope=self.scopes,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_post" if self.client_secret else "none",
            timeout=10,
        )

    async def _metadata(self) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                response = await http.get(self.discovery_url)
                response.raise_for_status()
                return response.json()
        except (httpx.HTTPError, ValueError) as err:
            raise SignInFailed(f"the identity provider's configuration cannot be read: {err}") from err

    async def start(self, next_path: str) -> tuple[str, str]:
        """Where to send the browser, and what the session keeps until it comes back."""
        metadata = await self._metadata()
        verifier, nonce = generate_token(64), generate_token(32)
        async with self._client() as client:
            url, state = client.create_authorization_url(
                metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
            )
        pending = json.dumps({"state": state, "verifier": verifier, "nonce": nonce, "next": next_path})
        return url, pending

    async def finish(self, pending: str, *, code: str, state: str) -> tuple[str, str]:
        """The access token for the code the browser brought back, and where it was going."""
        kept = json.loads(pending)
        if state != kept["state"]:
            raise SignInFailed("the sign-in came back with another state than it left with")
        metadata = await self._metadata()
        try:
            async with self._client() as client:
                token = await client.fetch_token(
                    metadata["token_endpoint"], code=code, code_verifier=kept["verifier"], state=state
                )
        except Exception as err:  # Authlib raises its own OAuthError, or httpx's
            raise SignInFailed(f"the identity provider did not give a token: {err}") from err
        access = token.get("access_token")
        if not isinstance(access, str):
            raise SignInFailed("the identity provider's answer holds no access token")
        return access, kept["next"]

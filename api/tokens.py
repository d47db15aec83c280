"""Tokens on one machine: a development signing key that the embedded stack trusts.

In service, tokens come from the municipality's identity provider and are verified
against its JWKS (`REENTRY_AUTH_JWKS_URL`); the development key is then not trusted.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from api.security import ClaimNames, Role, TokenVerifier
from core.settings import Settings

DEVELOPMENT_ALGORITHM = "ES256"


class NoTrustedKeys(RuntimeError):
    """The API has nothing to verify tokens with."""


def create_development_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """The development key at `path`, made (P-256, readable by its owner only) if absent."""
    if path.exists():
        return load_development_key(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    return key


def load_development_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise NoTrustedKeys(f"{path} is not an EC private key")
    return key


def issue_token(
    key: ec.EllipticCurvePrivateKey,
    *,
    user: str,
    roles: Iterable[Role | str],
    municipalities: Iterable[str],
    issuer: str,
    audience: str,
    ttl: timedelta = timedelta(hours=8),
    now: datetime | None = None,
) -> str:
    """A token as an identity provider would issue it, signed with the development key."""
    now = now or datetime.now(UTC)
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": user,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": str(uuid.uuid4()),
        "roles": [str(Role(r)) for r in roles],
        "municipalities": list(municipalities),
    }
    return jwt.encode(claims, key, algorithm=DEVELOPMENT_ALGORITHM, headers={"kid": "reentry-development"})


def development_token(settings: Settings, **kwargs) -> str:
    """A token signed by this machine's development key (made if absent)."""
    key = create_development_key(settings.development_key_path)
    return issue_token(key, issuer=settings.auth_issuer, audience=settings.auth_audience, **kwargs)


def verifier_for(settings: Settings) -> TokenVerifier:
    """Trust the identity provider's JWKS when configured; otherwise the development key."""
    claims = ClaimNames(
        user=settings.auth_user_claim,
        roles=settings.auth_roles_claim,
        municipalities=settings.auth_municipalities_claim,
    )
    common = dict(
        issuer=settings.auth_issuer, audience=settings.auth_audience, algorithms=settings.auth_algorithms, claims=claims
    )
    if settings.auth_jwks_url:
        return TokenVerifier(jwks_url=settings.auth_jwks_url, **common)
    path = settings.development_key_path
    if not path.exists():
        raise NoTrustedKeys(
            "no identity provider is configured (REENTRY_AUTH_JWKS_URL) and there is no development key at"
            f" {path}: set the JWKS URL of your identity provider, or run `reentry token` once on this machine"
        )
    common["algorithms"] = [DEVELOPMENT_ALGORITHM]
    return TokenVerifier(public_key=load_development_key(path).public_key(), **common)

"""Who may see and do what: bearer tokens, roles, municipalities and purposes.

A token is a JWT from the municipality's identity provider (verified against its JWKS),
or, on one machine, from the development key that `reentry token` signs with. Its
claims name a user (a person, or a partner system such as the prison service), the
roles and the municipalities granted. Every audited route declares one `Action`;
`PERMISSIONS` says which roles may perform it, and is the matrix in docs/security.md.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request, params
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.problems import Problem

ALL_MUNICIPALITIES = "*"
_MUNICIPALITY = re.compile(r"^[0-9]{4}$")
_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")


class Role(StrEnum):
    CASEWORKER = "caseworker"
    COORDINATOR = "coordinator"
    MAYOR_OFFICE = "mayor_office"
    PARTNER_SYSTEM = "partner_system"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Action(StrEnum):
    """What a request does with case data: the audit log's `action`."""

    RECEIVE_NOTICE = "notice.receive"
    READ_CASE = "case.read"
    COMPLETE_TASK = "task.complete"
    CLAIM_TASK = "task.claim"
    ASSIGN_TASK = "task.assign"
    RECORD_EVENT = "case.event"
    LIST_TASKS = "tasks.list"
    LIST_CASES = "cases.list"
    READ_TIMELINE = "case.timeline"
    READ_DASHBOARD = "dashboard.read"
    READ_AUDIT = "audit.read"
    READ_INTAKE = "intake.read"
    ENCODE_PAYLOADS = "codec.encode"
    DECODE_PAYLOADS = "codec.decode"
    # The mayor's track (BIJ): its own purpose, its own data.
    RECEIVE_MAYORAL_NOTICE = "mayoral_notice.receive"
    READ_MAYORAL_NOTICE = "mayoral_notice.read"
    LIST_MAYORAL_NOTICES = "mayoral_notices.list"
    READ_MAYORAL_OVERVIEW = "mayoral_overview.read"
    COMPLETE_MAYORAL_TASK = "mayoral_task.complete"
    CLAIM_MAYORAL_TASK = "mayoral_task.claim"
    ASSIGN_MAYORAL_TASK = "mayoral_task.assign"
    RECORD_MAYORAL_EVENT = "mayoral_notice.event"
    # The web front's sessions: every role signs in and out; not in PERMISSIONS.
    SIGN_IN = "session.sign_in"
    SIGN_OUT = "session.sign_out"


# What changes a case or a notice: these take an Idempotency-Key (``api.idempotency``).
CHANGES = frozenset(
    {
        Action.RECEIVE_NOTICE,
        Action.COMPLETE_TASK,
        Action.CLAIM_TASK,
        Action.ASSIGN_TASK,
        Action.RECORD_EVENT,
        Action.RECEIVE_MAYORAL_NOTICE,
        Action.COMPLETE_MAYORAL_TASK,
        Action.CLAIM_MAYORAL_TASK,
        Action.ASSIGN_MAYORAL_TASK,
        Action.RECORD_MAYORAL_EVENT,
    }
)

_CASEWORK = frozenset({Role.CASEWORKER, Role.COORDINATOR})
_MAYOR = frozenset({Role.MAYOR_OFFICE})

PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.RECEIVE_NOTICE: frozenset({Role.PARTNER_SYSTEM}),
    Action.READ_CASE: _CASEWORK,
    Action.COMPLETE_TASK: _CASEWORK,
    Action.CLAIM_TASK: _CASEWORK,
    Action.ASSIGN_TASK: frozenset({Role.COORDINATOR}),
    Action.RECORD_EVENT: _CASEWORK | {Role.PARTNER_SYSTEM},
    Action.LIST_TASKS: _CASEWORK,
    Action.LIST_CASES: _CASEWORK,
    Action.READ_TIMELINE: _CASEWORK,
    Action.READ_DASHBOARD: _CASEWORK,
    Action.READ_AUDIT: frozenset({Role.AUDITOR}),
    Action.READ_INTAKE: frozenset({Role.ADMIN}),
    Action.ENCODE_PAYLOADS: frozenset({Role.ADMIN}),
    Action.DECODE_PAYLOADS: frozenset({Role.ADMIN}),
    Action.RECEIVE_MAYORAL_NOTICE: frozenset({Role.PARTNER_SYSTEM}),
    Action.READ_MAYORAL_NOTICE: _MAYOR,
    Action.LIST_MAYORAL_NOTICES: _MAYOR,
    Action.READ_MAYORAL_OVERVIEW: _MAYOR,
    Action.COMPLETE_MAYORAL_TASK: _MAYOR,
    Action.CLAIM_MAYORAL_TASK: _MAYOR,
    Action.ASSIGN_MAYORAL_TASK: _MAYOR,
    # The justice information service reports a moved date, a cancelled leave, a return.
    Action.RECORD_MAYORAL_EVENT: _MAYOR | {Role.PARTNER_SYSTEM},
}

_MAYORAL_ACTIONS = frozenset(a for a in Action if a.value.startswith("mayoral"))
_CASE_ACTIONS = (
    frozenset(PERMISSIONS)
    - _MAYORAL_ACTIONS
    - {
        Action.RECEIVE_NOTICE,
        Action.READ_AUDIT,
        Action.READ_INTAKE,
        Action.ENCODE_PAYLOADS,
        Action.DECODE_PAYLOADS,
    }
)
# Purpose limitation, stronger than a 403: for casework the mayor's track does not exist,
# for the mayor's office casework does not: a 404, as for what is not there.
HIDDEN: dict[Action, frozenset[Role]] = {
    **dict.fromkeys(_MAYORAL_ACTIONS, _CASEWORK),
    **dict.fromkeys(_CASE_ACTIONS, _MAYOR),
}

# The events a partner system reports: what the prison service knows. Screening, plan,
# consent and closure are a caseworker's.
PARTNER_EVENTS = frozenset(
    {"expected_release_changed", "released", "leave_granted", "transferred", "re_detained", "deceased"}
)


@dataclass(frozen=True)
class Principal:
    """The verified caller."""

    user: str
    roles: frozenset[Role]
    municipalities: frozenset[str]

    @property
    def everywhere(self) -> bool:
        return ALL_MUNICIPALITIES in self.municipalities

    @property
    def scope(self) -> list[str] | None:
        """The municipalities to filter on; None: all of them."""
        return None if self.everywhere else sorted(self.municipalities)

    def grants(self, municipality: str) -> bool:
        return self.everywhere or municipality in self.municipalities

    def sends_for(self, municipality: str, *, existing: str | None = None) -> None:
        """A partner system sends only for the municipalities it is granted: the one a
        notice names, and, for a notice sent again, the one its case or track belongs to
        now (``existing``), which the answer does not name. Else a 403."""
        if not self.grants(municipality):
            raise Problem(
                403, f"{self.user} is not granted municipality {municipality}", type_="urn:reentry:problem:forbidden"
            )
        if existing is not None and not self.grants(existing):
            raise Problem(
                403,
                f"{self.user} may not send this notice: what it concerns belongs to a municipality it is not granted",
                type_="urn:reentry:problem:forbidden",
            )

    def may(self, action: Action) -> bool:
        return bool(self.roles & PERMISSIONS[action])

    def hidden(self, action: Action) -> bool:
        """Whether `action` lies outside every purpose of the caller's roles (not only
        outside its rights): then it answers 404."""
        return bool(self.roles) and self.roles <= HIDDEN.get(action, frozenset())

    @property
    def casework(self) -> bool:
        """Caseworkers and coordinators do casework; a partner system only reports."""
        return bool(self.roles & _CASEWORK)

    @property
    def roles_text(self) -> str:
        return ",".join(sorted(self.roles))


@dataclass(frozen=True)
class ClaimNames:
    """Where the identity provider puts the user, the roles and the municipalities.
    A dotted name reaches into an object, as Keycloak's ``realm_access.roles``."""

    user: str = "sub"
    roles: str = "roles"
    municipalities: str = "municipalities"


def _claim(claims: dict[str, Any], name: str) -> object:
    value: object = claims
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _strings(value: object) -> list[str] | None:
    """A claim's strings: a list of them, or one string of them separated by spaces or
    commas (as some identity providers send them); None if the claim is neither."""
    if isinstance(value, str):
        return value.replace(",", " ").split()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def not_for_this_purpose(path: str) -> Problem:
    """What another purpose's endpoint answers: as if it were not there. The path only,
    never the query, which may name a notice or a case."""
    return Problem(404, f"nothing at {path} for your role(s)", type_="urn:reentry:problem:not-found")


def unauthorised(detail: str) -> Problem:
    return Problem(401, detail, type_="urn:reentry:problem:unauthenticated", headers={"WWW-Authenticate": "Bearer"})


class TokenVerifier:
    """Verifies bearer tokens: signature, issuer, audience and expiry.

    Keys come from the identity provider's JWKS (fetched and cached by PyJWT's
    ``PyJWKClient``), or are one public key (the development key of one machine).
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        algorithms: list[str],
        jwks_url: str | None = None,
        public_key: Any = None,
        claims: ClaimNames | None = None,
        leeway: float = 30.0,
    ) -> None:
        if (jwks_url is None) == (public_key is None):
            raise ValueError("a token verifier needs either a JWKS URL or one public key")
        self.issuer, self.audience, self.algorithms, self.leeway = issuer, audience, algorithms, leeway
        self.claims = claims or ClaimNames()
        self._public_key = public_key
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=10) if jwks_url else None

    def _key(self, token: str) -> Any:
        if self._jwks is None:
            return self._public_key
        return self._jwks.get_signing_key_from_jwt(token).key

    def verify(self, token: str) -> Principal:
        """The principal of a token, or a 401 problem that says what is wrong with it."""
        try:
            claims = jwt.decode(
                token,
                self._key(token),
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as err:
            raise unauthorised("the token has expired") from err
        except jwt.InvalidAudienceError as err:
            raise unauthorised("the token is not meant for reentry (audience)") from err
        except jwt.InvalidIssuerError as err:
            raise unauthorised("the token is from an issuer reentry does not trust") from err
        except jwt.PyJWKClientError as err:
            raise unauthorised(f"the token's signing key cannot be found: {err}") from err
        except jwt.InvalidTokenError as err:
            raise unauthorised(f"the token is not valid: {err}") from err
        except (TypeError, ValueError) as err:
            # PyJWT's answer to a token whose algorithm does not fit the key.
            raise unauthorised("the token is not valid: its algorithm does not fit the signing key") from err
        return self.principal(claims)

    def principal(self, claims: dict[str, Any]) -> Principal:
        user = _claim(claims, self.claims.user)
        if not isinstance(user, str) or not _USER.match(user):
            raise unauthorised(f"the token's {self.claims.user!r} claim is not a user id reentry accepts")
        known = set(Role)
        # Roles of other applications in the same token (Keycloak's offline_access) are not ours.
        roles = frozenset(Role(r) for r in _strings(_claim(claims, self.claims.roles)) or [] if r in known)
        if not roles:
            raise unauthorised("the token grants no reentry role")
        return Principal(user=user, roles=roles, municipalities=self._municipalities(claims))

    def _municipalities(self, claims: dict[str, Any]) -> frozenset[str]:
        """The municipalities granted: CBS codes, or ``*`` for all. A token without the
        claim grants none; one whose claim holds anything else is refused, not read in
        part. The problem says what is wrong, never what the claim holds."""
        name = self.claims.municipalities
        value = _claim(claims, name)
        if value is None:
            return frozenset()
        codes = _strings(value)
        if codes is None:
            raise unauthorised(f"the token's {name!r} claim is not a list of municipality codes, nor a string of them")
        if not all(code == ALL_MUNICIPALITIES or _MUNICIPALITY.fullmatch(code) for code in codes):
            raise unauthorised(
                f"the token's {name!r} claim holds something other than 4-digit CBS municipality codes"
                f" (or {ALL_MUNICIPALITIES!r} for all)"
            )
        return frozenset(codes)


# Where the web front puts the principal of a signed-in browser when it calls the API in
# process (web/client.py). Only code in this process can set a request's ASGI state: a
# request from outside always brings a bearer token.
SIGNED_IN = "reentry.signed_in"


def signed_in(request: Request) -> Principal | None:
    principal = request.scope.get("state", {}).get(SIGNED_IN)
    return principal if isinstance(principal, Principal) else None


_bearer = HTTPBearer(auto_error=False, description="A JWT from the identity provider, or from `reentry token`.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def allowed(action: Action) -> params.Depends:
    """A dependency on the verified caller, if one of its roles may perform `action`:
    ``Annotated[Principal, allowed(action)]``.

    The action is noted for the audit log before the token is checked, so that a
    refusal is logged with what was attempted.
    """

    async def dependency(request: Request, credentials: Credentials) -> Principal:
        audit = request.state.audit
        audit.action = action
        principal = signed_in(request)
        if principal is None:
            if credentials is None:
                raise unauthorised("this needs a bearer token (Authorization: Bearer ...)")
            verifier: TokenVerifier = request.app.state.verifier
            # Verifying may fetch the JWKS (blocking I/O, when the keys changed): in a thread.
            principal = await asyncio.to_thread(verifier.verify, credentials.credentials)
        audit.principal = principal
        if principal.hidden(action):
            audit.refused = True
            raise not_for_this_purpose(request.url.path)
        if not principal.may(action):
            raise Problem(
                403,
                f"the role(s) {principal.roles_text} may not perform {action.value}",
                type_="urn:reentry:problem:forbidden",
            )
        if action in CHANGES:
            # Only now: a repeat is answered only to whom the request itself is allowed.
            # The app installs the step (api.idempotency, on the read model), so that what
            # imports this module for the principal does not import the store.
            await request.app.state.before_change(request, principal.user)
        return principal

    return params.Depends(dependency)

"""The web front's only way to the data: the API itself, called in process.

Every page asks the API what it shows and sends it what a form says, as the signed-in
person: the same authorisation, purpose limits, validation and audit as a call with a
bearer token (``api.security.signed_in``). The API's audit rows of one page carry the
page's request id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from api.security import SIGNED_IN, Principal


class _AsPrincipal:
    """The API app, called with the principal in the request's state."""

    def __init__(self, app: ASGIApp, principal: Principal) -> None:
        self.app, self.principal = app, principal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope = {**scope, "state": {**scope.get("state", {}), SIGNED_IN: self.principal}}
        await self.app(scope, receive, send)


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def problem(self) -> str:
        """What a refusal says: the problem's detail, in the API's words."""
        if isinstance(self.body, dict):
            return str(self.body.get("detail") or self.body.get("title") or self.status)
        return str(self.status)

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.body.get("errors", []) if isinstance(self.body, dict) else []


class Api:
    """The API as one signed-in person calls it."""

    def __init__(self, app: ASGIApp, principal: Principal, request_id: str) -> None:
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=_AsPrincipal(app, principal)),
            base_url="http://reentry.internal",
            headers={"x-request-id": request_id},
        )

    async def __aenter__(self) -> Api:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._client.aclose()

    async def get(self, path: str, **params: Any) -> Answer:
        query = {k: v for k, v in params.items() if v is not None}
        return _answer(await self._client.get(path, params=query))

    async def post(self, path: str, body: Any = None) -> Answer:
        return _answer(await self._client.post(path, json=body))


def _answer(response: httpx.Response) -> Answer:
    try:
        body = response.json()
    except ValueError:
        body = None
    return Answer(response.status_code, body)

"""The base of the typed partner clients: one ``httpx.AsyncClient`` per partner, a deadline
on every call, answers read into pydantic models, and every failure as a ``PartnerError``."""

from __future__ import annotations

import asyncio
import functools
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Annotated, Any, ClassVar, Self, TypeVar

import httpx
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.trace import TracerProvider
from pydantic import BaseModel, ConfigDict, StringConstraints, TypeAdapter, ValidationError

from activities.partners.errors import (
    MalformedAnswer,
    NotFound,
    PartnerError,
    PartnerFailed,
    PartnerTimeout,
    PartnerUnreachable,
    RequestRejected,
)

T = TypeVar("T")

_adapter = functools.cache(TypeAdapter)

USER_AGENT = "reentry/0.1"

# The caller's own key for a request that creates something at a partner
# (``<case id>/<task key>``): sent again, it finds what the first attempt made.
Reference = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9/_.:-]{0,127}$")]
# An id a partner gave to something it keeps (an application, an appointment).
PartnerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


class Answer(BaseModel):
    """A partner's answer: fields we do not know are ignored, missing ones are an error."""

    model_config = ConfigDict(extra="ignore")


def _retry_after(response: httpx.Response) -> timedelta | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        return max(timedelta(0), parsedate_to_datetime(value) - datetime.now(UTC))
    except (TypeError, ValueError):
        return None


def _invalid_params(response: httpx.Response) -> list[str]:
    """The names of the fields a problem answer says are wrong (names only, never values)."""
    try:
        problem = response.json()
    except ValueError:
        return []
    params = problem.get("invalidParams") if isinstance(problem, dict) else None
    if not isinstance(params, list):
        return []
    return [str(p["name"]) for p in params if isinstance(p, dict) and isinstance(p.get("name"), str)][:10]


def shape_errors(err: ValidationError) -> str:
    """Where an answer differs from the agreed shape, without the values found there."""
    problems = [
        f"{'.'.join(str(p) for p in e['loc']) or '(answer)'}: {e['type']}"
        for e in err.errors(include_input=False, include_url=False)
    ]
    more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
    return "; ".join(problems[:5]) + more


class PartnerClient:
    """Typed calls to one partner system over HTTP.

    ``timeout`` bounds each whole call (connect, send, wait, read): a partner that hangs
    raises ``PartnerTimeout`` when it runs out, also where httpx's own per-read timeouts
    would let a slow trickle go on.
    """

    partner: ClassVar[str] = "partner"

    def __init__(self, http: httpx.AsyncClient, *, timeout: float = 10.0) -> None:
        self._http, self.timeout = http, timeout

    @classmethod
    def connect(
        cls,
        base_url: str,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: dict[str, str] | None = None,
        tracer_provider: TracerProvider | None = None,
    ) -> Self:
        """A client with its own connection pool; close it with ``aclose()`` (or ``async with``).

        With ``tracer_provider``, every call is a span (method, URL without its query, status)
        and carries the trace to the partner (``traceparent``); never a body.
        """
        http = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers={"user-agent": USER_AGENT, "accept": "application/json", **(headers or {})},
        )
        if tracer_provider is not None:
            HTTPXClientInstrumentor.instrument_client(http, tracer_provider=tracer_provider)
        return cls(http, timeout=timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _call(
        self,
        method: str,
        path: str,
        answer: type[T] | None,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> T | None:
        """One request; the answer read as ``answer`` (``None``: no body expected)."""
        deadline = self.timeout if timeout is None else timeout
        what = f"{method} {path}"
        try:
            async with asyncio.timeout(deadline):
                response = await self._http.request(
                    method, path, json=json, params=params, timeout=httpx.Timeout(deadline)
                )
        except (TimeoutError, httpx.TimeoutException) as err:
            raise PartnerTimeout(
                f"{self.partner}: no answer to {what} within {deadline:g} s", partner=self.partner
            ) from err
        except httpx.TransportError as err:
            raise PartnerUnreachable(
                f"{self.partner}: {what} failed: {type(err).__name__}", partner=self.partner
            ) from err
        self._raise_for_status(response, what)
        if answer is None:
            return None
        try:
            data = response.json()
        except ValueError as err:
            raise MalformedAnswer(
                f"{self.partner}: the answer to {what} is not JSON", partner=self.partner, status=response.status_code
            ) from err
        try:
            return _adapter(answer).validate_python(data)
        except ValidationError as err:
            raise MalformedAnswer(
                f"{self.partner}: the answer to {what} is not in the agreed shape: {shape_errors(err)}",
                partner=self.partner,
                status=response.status_code,
            ) from err

    def _raise_for_status(self, response: httpx.Response, what: str) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        said = f"{self.partner}: {status} to {what}"
        if status in (408, 429) or status >= 500:
            raise PartnerFailed(said, partner=self.partner, status=status, retry_after=_retry_after(response))
        if status == 404:
            raise NotFound(said, partner=self.partner, status=status)
        if 400 <= status < 500:
            invalid = _invalid_params(response)
            detail = f" (wrong: {', '.join(invalid)})" if invalid else ""
            raise RequestRejected(said + detail, partner=self.partner, status=status)
        raise MalformedAnswer(f"{said}: not an answer this client understands", partner=self.partner, status=status)


__all__ = ["Answer", "PartnerClient", "PartnerError", "PartnerId", "Reference", "shape_errors"]

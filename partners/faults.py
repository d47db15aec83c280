"""Fault injection: latency, errors, hanging answers, outages and malformed answers.

An ASGI middleware in front of the partner routes decides per request, from the fault
plan and a random generator seeded per partner, what goes wrong. The admin routes
(``/_sim``) are never disturbed.

- An error answer (500/502/503) is given *before* the request is handled: nothing changed.
- A hanging or malformed answer comes *after* the request was handled: it took effect,
  and only the answer is lost. A client that retries must be idempotent.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from partners.clock import SimClock
from partners.config import FaultPlan, OutageMode, Partner

# Which partner a path belongs to; the first matching prefix wins.
PARTNER_PREFIXES: list[tuple[str, Partner]] = [
    ("/messagebox/", Partner.MESSAGE_BOX),
    ("/haalcentraal/", Partner.POPULATION_REGISTER),
    ("/income/", Partner.INCOME),
    ("/civil-affairs/", Partner.CIVIL_AFFAIRS),
    ("/probation/", Partner.PROBATION),
    ("/notificaties/", Partner.NOTIFICATIONS),
]

Malformation = Literal["cut_off", "wrong_shape"]


def partner_for(path: str) -> Partner | None:
    return next((partner for prefix, partner in PARTNER_PREFIXES if path.startswith(prefix)), None)


@dataclass(frozen=True)
class Decision:
    """What happens to one request."""

    delay: float = 0.0
    outage: OutageMode | None = None
    retry_after: int | None = None
    error_status: int | None = None
    hang: float | None = None
    malformed: Malformation | None = None
    hang_limit: float = 60.0


class FaultInjector:
    """Decides the faults of each request; the plan can be replaced while running."""

    def __init__(self, plan: FaultPlan, *, seed: int, clock: SimClock) -> None:
        self.clock = clock
        self.injected: Counter[str] = Counter()
        self.replace(plan, seed=seed)

    def replace(self, plan: FaultPlan, *, seed: int) -> None:
        """A new plan; the random generators start again from ``seed``."""
        self.plan, self.seed = plan, seed
        self._random = {partner: random.Random(f"{seed}:faults:{partner.value}") for partner in Partner}
        self._messages = random.Random(f"{seed}:faults:messages")

    def message_random(self) -> random.Random:
        """The generator that decides which posted messages come out unreadable."""
        return self._messages

    def decide(self, partner: Partner) -> Decision:
        faults = self.plan.for_partner(partner)
        # Always the same number of draws per request, whatever the plan: a change of one
        # share does not shift the faults of the requests after it.
        spike, error, hang, malformed, kind = (self._random[partner].random() for _ in range(5))
        delay = faults.latency.fixed + (faults.latency.spike if spike < faults.latency.spike_share else 0.0)
        now = self.clock.now()
        outage = next((o for o in faults.outages if o.start <= now < o.end), None)
        if outage is not None:
            self._count(partner, f"outage_{outage.mode.value}")
            retry_after = max(1, min(3600, math.ceil((outage.end - now).total_seconds())))
            return Decision(delay=delay, outage=outage.mode, retry_after=retry_after, hang_limit=faults.hang)
        if error < faults.error_rate:
            self._count(partner, "error")
            return Decision(delay=delay, error_status=(500, 502, 503)[int(kind * 3)])
        decision = Decision(
            delay=delay,
            hang=faults.hang if hang < faults.timeout_rate else None,
            malformed=("cut_off" if kind < 0.5 else "wrong_shape") if malformed < faults.malformed_rate else None,
        )
        if delay:
            self._count(partner, "latency")
        if decision.hang is not None:
            self._count(partner, "hang")
        if decision.malformed is not None:
            self._count(partner, f"malformed_{decision.malformed}")
        return decision

    def _count(self, partner: Partner, kind: str) -> None:
        self.injected[f"{partner.value}.{kind}"] += 1


def _problem(status: int, title: str, headers: list[tuple[bytes, bytes]] | None = None) -> list[Message]:
    body = json.dumps({"type": "about:blank", "title": title, "status": status}).encode()
    start_headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
    return [
        {"type": "http.response.start", "status": status, "headers": start_headers + (headers or [])},
        {"type": "http.response.body", "body": body},
    ]


TITLES = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def malform(body: bytes, how: Malformation) -> bytes:
    """A cut-off body (not JSON any more), or valid JSON of the wrong shape."""
    if how == "cut_off":
        return body[: len(body) // 2] if len(body) > 8 else b'{"'
    try:
        original: Any = json.loads(body) if body else None
    except ValueError:
        original = body.decode(errors="replace")
    # An envelope the client does not know, as after an unannounced version change.
    return json.dumps({"result": original, "apiVersion": "0.9"}).encode()


class FaultMiddleware:
    def __init__(self, app: ASGIApp, injector: FaultInjector) -> None:
        self.app, self.injector = app, injector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        partner = partner_for(scope["path"]) if scope["type"] == "http" else None
        if partner is None:
            await self.app(scope, receive, send)
            return
        decision = self.injector.decide(partner)
        if decision.delay:
            await asyncio.sleep(decision.delay)
        if decision.outage == OutageMode.UNAVAILABLE:
            headers = [(b"retry-after", str(decision.retry_after).encode())]
            await self._send_all(send, _problem(503, TITLES[503], headers))
            return
        if decision.outage == OutageMode.BLACKHOLE:
            await asyncio.sleep(decision.hang_limit)
            await self._send_all(send, _problem(504, TITLES[504]))
            return
        if decision.error_status is not None:
            await self._send_all(send, _problem(decision.error_status, TITLES[decision.error_status]))
            return
        if decision.hang is None and decision.malformed is None:
            await self.app(scope, receive, send)
            return
        # Handle the request, hold its answer, then spoil or delay it.
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        if decision.malformed is not None:
            held = self._malformed(held, decision.malformed)
        if decision.hang is not None:
            await asyncio.sleep(decision.hang)
        await self._send_all(send, held)

    @staticmethod
    def _malformed(held: list[Message], how: Malformation) -> list[Message]:
        start = next(m for m in held if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
        spoiled = malform(body, how)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in (b"content-length", b"content-type")]
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(spoiled)).encode())]
        status = start["status"] if start["status"] in (200, 201) else 200
        return [
            {"type": "http.response.start", "status": status, "headers": headers},
            {"type": "http.response.body", "body": spoiled},
        ]

    @staticmethod
    async def _send_all(send: Send, messages: list[Message]) -> None:
        for message in messages:
            await send(message)

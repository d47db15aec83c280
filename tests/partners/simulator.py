"""Fixtures: the partner simulator in process, on a frozen clock (time moves only when a test says)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from partners import SimClock, Simulation, SimulatorConfig, create_partners_app

# A Monday morning in winter.
START = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> SimClock:
    return SimClock(START, frozen=True)


@pytest.fixture
def simulation(clock: SimClock) -> Simulation:
    return Simulation(SimulatorConfig(), clock)


@pytest.fixture
def transport(simulation: Simulation) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=create_partners_app(simulation=simulation))


@pytest.fixture
async def sim(transport: httpx.ASGITransport) -> AsyncIterator[httpx.AsyncClient]:
    """Plain HTTP to the simulator, as a partner's other users (and its operators) see it."""
    async with httpx.AsyncClient(transport=transport, base_url="http://partners.test") as client:
        yield client


async def set_faults(sim: httpx.AsyncClient, seed: int | None = None, **plan: object) -> dict:
    response = await sim.put("/_sim/faults", json={"plan": plan, "seed": seed})
    assert response.status_code == 200, response.text
    return response.json()


class FollowsTemporal(httpx.AsyncBaseTransport):
    """The simulator in step with a time-skipping test server: before each request its
    (frozen) clock moves to the server's time, so an outage of two days in simulated time
    lasts two days of skipped time, and an application is decided after six skipped weeks.
    Counts the requests."""

    def __init__(self, inner: httpx.AsyncBaseTransport, clock: SimClock, env: WorkflowEnvironment) -> None:
        self._inner, self._clock, self._env = inner, clock, env
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        now = await self._env.get_current_time()
        if now > self._clock.now():
            self._clock.set(now)
        return await self._inner.handle_async_request(request)

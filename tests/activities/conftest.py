"""The partner clients against the simulator, in process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import httpx
import pytest

from activities.partners.http import PartnerClient
from core.settings import SIMULATOR_PATHS
from tests.partners import simulator

# The simulator's fixtures, shared with tests/partners.
clock, simulation, transport, sim = simulator.clock, simulator.simulation, simulator.transport, simulator.sim

C = TypeVar("C", bound=PartnerClient)


@pytest.fixture
async def connect(transport: httpx.ASGITransport) -> AsyncIterator[Callable[..., Any]]:
    """``connect(IncomeClient)``: a client of the simulated partner, closed after the test."""
    clients: list[PartnerClient] = []

    def make(cls: type[C], *, timeout: float = 2.0) -> C:
        client = cls.connect(
            f"http://partners.test{SIMULATOR_PATHS[cls.partner]}", timeout=timeout, transport=transport
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()

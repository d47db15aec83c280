from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from domain.models import DetentionNotice
from domain.policy import Policy
from partners import SimClock, Simulation, SimulatorConfig, create_partners_app
from tests.partners.simulator import FollowsTemporal
from tests.workflows.driver import CaseDriver

StartCase = Callable[..., Awaitable[CaseDriver]]

AWAY_FROM_TIMERS = timedelta(minutes=47, seconds=13, milliseconds=311)


@pytest.fixture
async def cases(env: WorkflowEnvironment, task_queue: str) -> AsyncIterator[StartCase]:
    """Starts cases on the test's own worker; ends those still running after the test.

    Time is shared by every workflow on the time-skipping server, and it does not skip
    past a workflow task that no worker will take any more.
    """
    started: list[CaseDriver] = []

    async def start(notice: DetentionNotice, policy: Policy | None = None) -> CaseDriver:
        case = await CaseDriver.start(env, task_queue, notice, policy)
        started.append(case)
        return case

    yield start
    # Every close below lands at an odd moment: on the instant one of the case's timers
    # fires (midnight, a day after its last change), the time-skipping server fails the
    # workflow task that holds both, over and over, and the close is never answered.
    await env.sleep(AWAY_FROM_TIMERS)
    # Close, not terminate: the time-skipping server keeps waiting for an activity of a
    # terminated workflow, and then skips no more time for anyone.
    for case in started:
        described = await case.handle.describe()
        if described.status == WorkflowExecutionStatus.RUNNING:
            with contextlib.suppress(WorkflowUpdateFailedError):  # closed meanwhile
                await case.event({"type": "closed", "note": "test finished"}, actor="test")
        await case.handle.result()


@pytest.fixture
async def simulation(env: WorkflowEnvironment) -> Simulation:
    """The partner simulator's state, its clock at the test server's time."""
    return Simulation(SimulatorConfig(), SimClock(await env.get_current_time(), frozen=True))


@pytest.fixture
def simulated(env: WorkflowEnvironment, simulation: Simulation) -> FollowsTemporal:
    """The simulated partner systems, as a worker's partner clients reach them."""
    return FollowsTemporal(httpx.ASGITransport(app=create_partners_app(simulation=simulation)), simulation.clock, env)

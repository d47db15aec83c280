from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from core.settings import Settings
from tests.helpers import CAROLINE, STAND_INS, TRUST_TEST_KEY
from worker.temporal import build_worker

BIN = Path(sys.prefix) / "bin"


@pytest.fixture
def api_task_queue() -> str:
    return f"api-{uuid.uuid4()}"


@pytest.fixture
def app(dev_env: WorkflowEnvironment, engine: Engine, api_task_queue: str) -> FastAPI:
    """The real app on a fresh task queue; the read model on SQLite and on PostgreSQL."""
    settings = Settings(task_queue=api_task_queue, **TRUST_TEST_KEY)
    return create_app(settings=settings, temporal_client=dev_env.client, engine=engine)


@pytest.fixture
async def api(
    app: FastAPI, dev_env: WorkflowEnvironment, engine: Engine, api_task_queue: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of `app`, its lifespan run, with a worker on its task queue."""
    async with (
        build_worker(dev_env.client, api_task_queue, engine, STAND_INS),
        app.router.lifespan_context(app),
        # Caroline, a coordinator of every municipality, unless a request says otherwise.
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://reentry.test", headers=CAROLINE
        ) as client,
    ):
        yield client

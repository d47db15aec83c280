from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from core.settings import Settings
from tests.helpers import STAND_INS, TRUST_TEST_KEY
from web.site import install
from worker.temporal import build_worker


@pytest.fixture
def web_task_queue() -> str:
    return f"web-{uuid.uuid4()}"


def make_site(dev_env: WorkflowEnvironment, engine: Engine, task_queue: str, **settings: object) -> FastAPI:
    """The API with the web front mounted, as `reentry up` serves it."""
    config = Settings(task_queue=task_queue, **{**TRUST_TEST_KEY, **settings})
    app = create_app(settings=config, temporal_client=dev_env.client, engine=engine)
    install(app, config)
    return app


@pytest.fixture
def site(dev_env: WorkflowEnvironment, engine: Engine, web_task_queue: str) -> FastAPI:
    """On SQLite and on PostgreSQL: the sessions live in the read model's database."""
    return make_site(dev_env, engine, web_task_queue)


@contextlib.asynccontextmanager
async def running(app: FastAPI, dev_env: WorkflowEnvironment, engine: Engine, task_queue: str) -> AsyncIterator[None]:
    async with build_worker(dev_env.client, task_queue, engine, STAND_INS), app.router.lifespan_context(app):
        yield


@pytest.fixture
async def browser_client(
    site: FastAPI, dev_env: WorkflowEnvironment, engine: Engine, web_task_queue: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A client that behaves as a browser without script: it keeps cookies and does not
    follow redirects by itself, so that a test sees where it is sent."""
    async with (
        running(site, dev_env, engine, web_task_queue),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=site), base_url="http://reentry.test") as client,
    ):
        yield client


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """`app` on a port of its own on this machine, in this event loop: its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = _Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()

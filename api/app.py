"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from temporalio.client import Client

from api import problems
from api.routes import cases, health, notifications
from worker.settings import Settings
from worker.temporal import connect


def create_app(*, settings: Settings | None = None, temporal_client: Client | None = None) -> FastAPI:
    """The API. The lifespan owns one Temporal client per process (given, or connected)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.temporal = temporal_client or await connect(settings.address, settings.temporal_namespace)
        app.state.policy = settings.loaded_policy
        app.state.task_queue = settings.task_queue
        yield

    app = FastAPI(
        title="reentry",
        summary="Re-integration after detention: cases, tasks and deadlines for municipalities",
        version="0.1.0",
        lifespan=lifespan,
    )
    problems.install(app)
    app.include_router(health.router)
    app.include_router(notifications.router)
    app.include_router(cases.router)
    return app

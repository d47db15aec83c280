"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import Engine
from temporalio.client import Client

from api import problems
from api.routes import cases, health, notifications, worklists
from store.db import make_engine
from worker.settings import Settings
from worker.temporal import connect


def create_app(
    *, settings: Settings | None = None, temporal_client: Client | None = None, engine: Engine | None = None
) -> FastAPI:
    """The API. The lifespan owns one Temporal client and one database engine per process
    (given, or made from the settings)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.temporal = temporal_client or await connect(settings.address, settings.temporal_namespace)
        app.state.engine = engine or make_engine(settings.database)
        app.state.policy = settings.loaded_policy
        app.state.task_queue = settings.task_queue
        app.state.update_timeout = timedelta(seconds=settings.update_timeout)
        yield
        if engine is None:
            app.state.engine.dispose()

    app = FastAPI(
        title="reentry",
        summary="Re-integration after detention: cases, tasks and deadlines for municipalities",
        version="0.1.0",
        lifespan=lifespan,
    )
    problems.install(app)
    app.include_router(health.router)
    app.include_router(notifications.router)
    app.include_router(worklists.router)
    app.include_router(cases.router)
    return app

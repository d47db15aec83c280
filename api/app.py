"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.trace import TracerProvider
from sqlalchemy import Engine
from temporalio.client import Client

from api import idempotency, middleware, problems
from api.routes import audit, cases, codec, health, intake, mayoral, notifications, worklists
from api.tokens import verifier_for
from core.pseudonyms import PersonKeys, person_keys_of
from core.settings import Settings
from core.temporal import connect_to
from store.db import make_engine


def create_app(
    *,
    settings: Settings | None = None,
    temporal_client: Client | None = None,
    engine: Engine | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """The API. The lifespan owns one Temporal client and one database engine per process
    (given, or made from the settings). With ``tracer_provider`` every request is traced
    (``core.tracing``); give the same provider to the Temporal client's interceptor."""
    settings = settings or Settings()
    # Made now, so that an API with nothing to verify tokens with refuses to start.
    verifier = verifier_for(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.temporal = temporal_client or await connect_to(
            settings, keyring=settings.keyring(), tracer_provider=tracer_provider
        )
        # The codec server decrypts with the same codec as this process's Temporal client.
        app.state.codec = app.state.temporal.data_converter.payload_codec
        app.state.person_keys = person_keys_of(app.state.temporal) or PersonKeys(settings.keyring())
        app.state.engine = engine or make_engine(settings.database)
        app.state.policy = settings.loaded_policy
        app.state.task_queue = settings.task_queue
        app.state.update_timeout = timedelta(seconds=settings.update_timeout)
        app.state.verifier = verifier
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
    app.add_exception_handler(idempotency.Replayed, idempotency.replayed)
    app.state.before_change = idempotency.begin
    middleware.install(app, max_body_bytes=settings.max_body_bytes)
    # Outermost: a preflight from the Web UI is answered before anything else.
    app.add_middleware(codec.CodecCors, origins=settings.codec_origins)
    app.include_router(health.router)
    app.include_router(notifications.router)
    app.include_router(worklists.router)
    app.include_router(cases.router)
    app.include_router(mayoral.router)
    app.include_router(audit.router)
    app.include_router(intake.router)
    app.include_router(codec.router)
    if tracer_provider is not None:
        _trace(app, tracer_provider)
    return app


def _trace(app: FastAPI, tracer_provider: TracerProvider) -> None:
    """A server span per request (method, route, path, status), outermost, so that the
    Temporal client's spans are its children. No headers and no bodies are recorded,
    whatever OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_* says: ``core.tracing`` removes
    them. The health probes are not traced."""
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=tracer_provider,
        excluded_urls="/healthz,/readyz",
        # One span per request, not one per ASGI message as well.
        exclude_spans=["receive", "send"],
    )

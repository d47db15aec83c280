"""A process's tracing and metrics, as configured: what ``reentry up``, ``api`` and
``worker`` start first and stop last.

Made of ``core.tracing`` and ``core.metrics``, and kept here, where the processes are
wired, because an API's endpoint also carries the read model's figures (``api.metrics``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from opentelemetry.sdk.trace import TracerProvider
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from temporalio.runtime import Runtime

from core.metrics import MetricsEndpoint, TemporalSdkMetrics
from core.settings import Settings
from core.tracing import tracer_provider


@dataclass(frozen=True)
class Telemetry:
    """What the process's parts are made with: the tracer provider for the API, the
    Temporal client and the partner clients, and the runtime for the Temporal client."""

    tracer_provider: TracerProvider | None = None
    runtime: Runtime | None = None
    metrics_url: str | None = None


@contextlib.contextmanager
def telemetry(settings: Settings, *, service: str, read_model: Engine | None = None) -> Iterator[Telemetry]:
    """The tracer provider (``REENTRY_OTEL_*``) and the Prometheus endpoint
    (``REENTRY_METRICS_*``; with the figures of ``read_model``, if given) of a process;
    afterwards the spans not yet sent are sent and the endpoint is closed."""
    provider = tracer_provider(settings, service)
    sdk: TemporalSdkMetrics | None = None
    endpoint: MetricsEndpoint | None = None
    try:
        if settings.metrics_port is not None:
            from api.metrics import ReadModelMetrics

            sdk = TemporalSdkMetrics()
            collectors: list[Collector] = [sdk]
            if read_model is not None:
                collectors.append(ReadModelMetrics(read_model))
            host, port = settings.metrics_host, settings.metrics_port
            try:
                endpoint = MetricsEndpoint(host, port, collectors)
            except OSError as err:
                raise SystemExit(f"the metrics endpoint cannot listen on {host}:{port}: {err.strerror}") from None
        yield Telemetry(
            tracer_provider=provider,
            runtime=sdk.runtime if sdk else None,
            metrics_url=endpoint.url if endpoint else None,
        )
    finally:
        if endpoint is not None:
            endpoint.close()
        if sdk is not None:
            sdk.close()
        if provider is not None:
            provider.shutdown()

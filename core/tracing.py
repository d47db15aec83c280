"""Traces: one per request, from the API through Temporal to the activities and the partner calls.

Spans are made by the FastAPI and httpx instrumentations and by Temporal's
``TracingInterceptor`` (``core.temporal.connect``), all with the tracer provider made
here and passed to each of them, never the process-global one: the API's process and the
worker's alike, which is why it lives below both. Before a span leaves the process it
passes ``WithoutPersonalData``: what could identify a person or a caller (a query string,
a client address, a user agent, captured headers, exception messages) is removed,
whatever an instrumentation or an environment variable added. Case ids are pseudonymous
and stay.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import Status

from core.settings import Settings

# Who called: the caller's address and software.
_CALLER = frozenset(
    {
        "net.peer.ip",
        "net.peer.port",
        "net.sock.peer.addr",
        "net.sock.peer.port",
        "client.address",
        "client.port",
        "network.peer.address",
        "network.peer.port",
        "http.client_ip",
        "http.user_agent",
        "user_agent.original",
        "url.query",
    }
)
# Captured request and response headers: Authorization, cookies, anything.
_HEADERS = re.compile(r"^http\.(request|response)\.header\.")
# URLs lose their query string; the path stays (case ids are pseudonymous).
_URLS = frozenset({"http.url", "url.full", "http.target"})
# An exception keeps its type; its message and stack trace may quote data.
_EXCEPTION_TEXT = frozenset({"exception.message", "exception.stacktrace"})


def _without_personal_data(attributes: Mapping[str, Any] | None, drop: frozenset[str] = _CALLER) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, value in (attributes or {}).items():
        if key in drop or _HEADERS.match(key):
            continue
        if key in _URLS and isinstance(value, str):
            value = value.split("?", 1)[0].split("#", 1)[0]
        kept[key] = value
    return kept


def redact(span: ReadableSpan) -> ReadableSpan:
    """The span as it may leave the process."""
    status = span.status
    if status.description:
        # "ApplicationError: <message>": the type says enough.
        status = Status(status.status_code, status.description.split(":", 1)[0])
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=MappingProxyType(_without_personal_data(span.attributes)),
        events=[
            Event(
                event.name,
                _without_personal_data(event.attributes, _CALLER | _EXCEPTION_TEXT),
                event.timestamp,
            )
            for event in span.events
        ],
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class WithoutPersonalData(SpanProcessor):
    """Hands every ended span to ``processor`` redacted (``redact``)."""

    def __init__(self, processor: SpanProcessor) -> None:
        self._processor = processor

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self._processor.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        self._processor.on_end(redact(span))

    def shutdown(self) -> None:
        self._processor.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._processor.force_flush(timeout_millis)


def make_tracer_provider(service_name: str, exporter: SpanExporter, *, batch: bool = True) -> TracerProvider:
    """A tracer provider whose spans go, redacted, to ``exporter``: in batches from a
    background thread, or (``batch=False``, for tests) one by one as they end."""
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    provider.add_span_processor(WithoutPersonalData(processor))
    return provider


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL of a collector's address (``/v1/traces`` added unless given)."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/traces") else f"{endpoint}/v1/traces"


def tracer_provider(settings: Settings, default_service_name: str) -> TracerProvider | None:
    """The process's tracer provider as configured; ``None`` when spans go nowhere (nothing is traced)."""
    if settings.otel_exporter == "none":
        return None
    exporter: SpanExporter
    if settings.otel_exporter == "console":
        exporter = ConsoleSpanExporter(out=sys.stdout)
    else:
        # Imported only when used: it brings an HTTP client of its own.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=traces_url(settings.otel_endpoint) if settings.otel_endpoint else None)
    return make_tracer_provider(settings.otel_service_name or default_service_name, exporter)

"""The tracer provider as configured, and what a span loses before it leaves the process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from core.settings import Settings
from core.tracing import make_tracer_provider, tracer_provider, traces_url


def test_a_span_leaves_without_query_strings_callers_headers_or_exception_messages():
    exporter = InMemorySpanExporter()
    provider = make_tracer_provider("reentry-test", exporter, batch=False)
    with provider.get_tracer("test").start_as_current_span(
        "GET /v1/tasks",
        kind=SpanKind.SERVER,
        attributes={
            "http.method": "GET",
            "http.route": "/v1/tasks",
            "http.target": "/v1/tasks?team=Jansen",
            "http.url": "http://reentry.test/v1/tasks?team=Jansen#top",
            "url.full": "http://reentry.test/v1/cases/case-DJI-1?x=Jansen",
            "url.query": "team=Jansen",
            "net.peer.ip": "10.1.2.3",
            "client.address": "10.1.2.3",
            "http.user_agent": "Mozilla/5.0 (Anna's laptop)",
            "http.request.header.authorization": ("Bearer secret",),
            "http.response.header.set_cookie": ("session=secret",),
            "http.status_code": 500,
        },
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        span.record_exception(ValueError("BSN 123456782 of Jan Jansen"))
        span.set_status(Status(StatusCode.ERROR, "ApplicationError: no person 123456782"))

    [exported] = exporter.get_finished_spans()
    assert dict(exported.attributes) == {
        "http.method": "GET",
        "http.route": "/v1/tasks",
        "http.target": "/v1/tasks",
        "http.url": "http://reentry.test/v1/tasks",
        "url.full": "http://reentry.test/v1/cases/case-DJI-1",
        "http.status_code": 500,
    }
    [event] = exported.events
    assert event.name == "exception" and dict(event.attributes) == {
        "exception.type": "ValueError",
        "exception.escaped": "False",
    }
    assert exported.status.status_code == StatusCode.ERROR and exported.status.description == "ApplicationError"
    assert exported.resource.attributes["service.name"] == "reentry-test"
    assert exported.parent is None and exported.kind == SpanKind.SERVER


def test_nothing_is_traced_unless_an_exporter_is_configured():
    assert tracer_provider(Settings(), "reentry-api") is None


def test_the_console_exporter_writes_redacted_spans_to_standard_output(capsys: pytest.CaptureFixture[str]):
    provider = tracer_provider(Settings(otel_exporter="console", otel_service_name="reentry-tilburg"), "reentry-api")
    assert provider is not None
    attributes = {"http.url": "http://reentry.test/v1/tasks?team=Jansen"}
    with provider.get_tracer("test").start_as_current_span("GET /v1/tasks", attributes=attributes):
        pass
    provider.shutdown()
    out = capsys.readouterr().out
    assert '"name": "GET /v1/tasks"' in out and '"service.name": "reentry-tilburg"' in out
    assert '"http.url": "http://reentry.test/v1/tasks"' in out and "Jansen" not in out


@pytest.mark.parametrize(
    ("endpoint", "url"),
    [
        ("http://otel-collector:4318", "http://otel-collector:4318/v1/traces"),
        ("http://otel-collector:4318/", "http://otel-collector:4318/v1/traces"),
        ("https://tempo.gemeente.internal/otlp/v1/traces", "https://tempo.gemeente.internal/otlp/v1/traces"),
    ],
)
def test_the_traces_url_of_a_collector(endpoint: str, url: str):
    assert traces_url(endpoint) == url


class Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]]

    def do_POST(self) -> None:  # noqa: N802  (http.server's name)
        body = self.rfile.read(int(self.headers["content-length"]))
        self.received.append((self.path, self.headers["content-type"], body))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    """An OTLP/HTTP collector that keeps what it is sent."""
    received: list[tuple[str, str, bytes]] = []
    handler = type("Handler", (Collector,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()
    server.server_close()


def test_spans_go_to_an_otlp_collector_over_http(collector):
    endpoint, received = collector
    settings = Settings(otel_exporter="otlp", otel_endpoint=endpoint)
    provider = tracer_provider(settings, "reentry-worker")
    assert provider is not None
    with provider.get_tracer("test").start_as_current_span("RunActivity:project_case"):
        pass
    assert provider.force_flush()
    provider.shutdown()

    [(path, content_type, body)] = received
    assert (path, content_type) == ("/v1/traces", "application/x-protobuf")
    request = ExportTraceServiceRequest.FromString(body)
    [resource_spans] = request.resource_spans
    service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}["service.name"]
    assert service == "reentry-worker"
    assert [s.name for scope in resource_spans.scope_spans for s in scope.spans] == ["RunActivity:project_case"]

"""What reentry's HTTP API costs on top of bare Temporal, measured on one real dev server.

One run starts a Temporal dev server (the ``temporal`` binary in this virtualenv; nothing
is downloaded), the reentry worker, a worker for a trivial "bare" workflow, and the real
API under uvicorn on a free local port, all in this process. It then measures:

1. Throughput: ``--cases`` cases started through ``POST /v1/notifications/detention-started``
   against as many bare workflows started with ``Client.start_workflow`` and as many
   started by a bare update-with-start, all with at most ``--concurrency`` requests in
   flight; wall time gives starts per second. A bare start returns once the server has
   accepted it; an API start, like a bare update-with-start, is an update-with-start
   that returns only after the worker has run the first workflow task, so the fair
   comparison for intake is the latter.
2. Latency: for each started case, one ``POST /v1/cases/{id}/tasks/contact_prison/complete``,
   against one trivial update on each bare workflow; one request at a time, so the
   figures are round trips, not queueing. Reported as p50 and p99.

By default it measures both twice on the same server: with every client encrypting its
payloads and signing every command (the product's data converter and command signing,
as `reentry up` runs them) and without (the pydantic converter alone), each with its own
worker, API and task queues. The starts run one variant after the other; the latency
requests alternate, one with, one without, so that whatever drifts during the run (the
server's database growing, the machine's other load) falls on both alike. ``--codec with``
or ``--codec without`` measures one of them.

``--tracing both`` measures each of those traced and not traced, the same way: traced,
the API, the Temporal clients and the workers make their spans as ``REENTRY_OTEL_EXPORTER=otlp``
does, and send them over OTLP/HTTP to a local sink that counts and drops them.

It prints the figures, the ratios API / bare, the cost of encryption (and of tracing),
and the command line used. Run it with:

    .venv/bin/python bench/throughput.py --cases 200 --concurrency 20
    .venv/bin/python bench/throughput.py --cases 200 --codec with --tracing both
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# The made-up notices come from tests/helpers.py, which is not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import uvicorn
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.trace import TracerProvider
from sqlalchemy import Engine
from temporalio import workflow
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.worker import Worker

from api.app import create_app
from bench.arguments import positive
from bench.servers import dev_server
from core.codec import Keyring, new_key_line
from core.settings import Settings, sqlite_url
from core.signing import CommandSigning
from core.temporal import data_converter, tracing_interceptor
from core.tracing import tracer_provider
from domain.models import local_date
from store.db import make_engine, upgrade
from tests.helpers import TRUST_TEST_KEY, advice_requested, bearer, notice, registered_here
from worker.temporal import build_worker

WARMUP = 5
TASK_KEY = "contact_prison"
# Tokens signed by a key of this run's own, which the benchmark's API trusts.
PRISON = bearer("prison_service", "partner_system")
CASEWORKER = bearer("bench", "caseworker")
# Seconds to let the workers finish what a phase left behind (first workflow tasks of bare
# workflows; the reminder activity a new case sends), so it does not load the next phase.
SETTLE = 2.0


class BenchError(RuntimeError):
    """A response that was not what the benchmark expects; the run is not valid."""


@workflow.defn(sandboxed=False)
class BareWorkflow:
    """Does nothing but wait; counts the updates it is sent."""

    def __init__(self) -> None:
        self._touched = 0

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.update
    def touch(self) -> int:
        self._touched += 1
        return self._touched


# ---------------------------------------------------------------------------- measuring


async def bounded(count: int, concurrency: int, one: Callable[[int], Awaitable[Any]]) -> tuple[list[Any], float]:
    """Run ``one(0) .. one(count - 1)`` with at most ``concurrency`` in flight: results and wall seconds."""
    semaphore = asyncio.Semaphore(concurrency)

    async def limited(i: int) -> Any:
        async with semaphore:
            return await one(i)

    started = time.perf_counter()
    results = await asyncio.gather(*(limited(i) for i in range(count)))
    return list(results), time.perf_counter() - started


async def sequential(items: Sequence[Any], one: Callable[[Any], Awaitable[None]]) -> list[float]:
    """Call ``one`` for each item, one at a time: the latency of each call in ms."""
    [latencies] = await alternating([(items, one)])
    return latencies


async def alternating(runs: Sequence[tuple[Sequence[Any], Callable[[Any], Awaitable[None]]]]) -> list[list[float]]:
    """Like ``sequential`` for several lists at once, taking the i-th item of each in turn:
    the latencies in ms per list."""
    latencies: list[list[float]] = [[] for _ in runs]
    for i in range(max(len(items) for items, _ in runs)):
        for samples, (items, one) in zip(latencies, runs, strict=True):
            if i < len(items):
                started = time.perf_counter()
                await one(items[i])
                samples.append((time.perf_counter() - started) * 1000)
    return latencies


@dataclass
class Latency:
    p50: float
    p99: float

    @classmethod
    def of(cls, samples_ms: list[float]) -> Latency:
        cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
        return cls(p50=cuts[49], p99=cuts[98])


# ---------------------------------------------------------------------------- the two paths


class Api:
    """The reentry HTTP API, as a partner system (the prison service) and a caseworker use it."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        # The workflow's today is the Dutch calendar date.
        self.today = local_date(datetime.now(UTC))

    def notices(self, count: int) -> list[dict[str, Any]]:
        return [notice(self.today).model_dump(mode="json") for _ in range(count)]

    async def start_case(self, body: dict[str, Any]) -> str:
        response = await self.http.post("/v1/notifications/detention-started", json=body, headers=PRISON)
        expect(response, 201, "start a case")
        receipt = response.json()
        if receipt.get("created") is not True:
            raise BenchError(f"start a case: the case already existed: {receipt}")
        return receipt["case_id"]

    async def complete_task(self, case_id: str) -> None:
        response = await self.http.post(
            f"/v1/cases/{case_id}/tasks/{TASK_KEY}/complete",
            headers=CASEWORKER,
            json={"outcome": {"kind": "contact", "contacted_on": self.today.isoformat()}},
        )
        expect(response, 200, f"complete {TASK_KEY} of {case_id}")
        task = response.json()
        if task.get("key") != TASK_KEY or task.get("status") != "completed":
            raise BenchError(f"complete {TASK_KEY} of {case_id}: unexpected task {task}")


class Bare:
    """Temporal without reentry: a trivial workflow and a trivial update."""

    def __init__(self, client: Client, task_queue: str) -> None:
        self.client, self.task_queue = client, task_queue

    async def start(self, workflow_id: str) -> WorkflowHandle[BareWorkflow, None]:
        return await self.client.start_workflow(BareWorkflow.run, id=workflow_id, task_queue=self.task_queue)

    async def update_with_start(self, workflow_id: str) -> None:
        """Start a workflow and wait for its first update, as the API starts a case."""
        operation = WithStartWorkflowOperation(
            BareWorkflow.run,
            id=workflow_id,
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        touched = await self.client.execute_update_with_start_workflow(
            BareWorkflow.touch, start_workflow_operation=operation
        )
        if touched != 1:
            raise BenchError(f"update-with-start {workflow_id}: expected the first update, got {touched}")

    async def update(self, handle: WorkflowHandle[BareWorkflow, None]) -> None:
        touched = await handle.execute_update(BareWorkflow.touch)
        if touched != 1:
            raise BenchError(f"update {handle.id}: expected the first update, the workflow counted {touched}")


def expect(response: httpx.Response, status: int, what: str) -> None:
    if response.status_code != status:
        raise BenchError(f"{what}: expected HTTP {status}, got {response.status_code}: {response.text[:500]}")


# ---------------------------------------------------------------------------- the run


@dataclass
class Results:
    api_seconds: float
    bare_seconds: float
    bare_with_start_seconds: float
    api_latency: Latency
    bare_latency: Latency


@dataclass(frozen=True)
class Variant:
    """One way of running the whole stack: its clients' data converter, and traced or not."""

    codec: str
    traced: bool = False

    @property
    def name(self) -> str:
        return f"{self.codec}, {'traced' if self.traced else 'not traced'}"


@dataclass
class Running:
    """A variant with its own API and workers."""

    variant: Variant
    api: Api
    bare: Bare


@dataclass
class Started:
    handles: list[WorkflowHandle[BareWorkflow, None]]
    case_ids: list[str]
    bare_seconds: float
    bare_with_start_seconds: float
    api_seconds: float


async def start_all(variant: Running, name: str, cases: int, concurrency: int) -> Started:
    """Warm up one variant, then start its bare workflows and its cases (timed)."""
    api, bare = variant.api, variant.bare
    warmup_ids = [f"bare-{name}-warmup-{i}" for i in range(WARMUP)]
    bare_ids = [f"bare-{name}-{i}" for i in range(cases)]
    warmup_notices, notices = api.notices(WARMUP), api.notices(cases)

    # Warm up both paths end to end: connections, imports, validators, the worker caches.
    warmup_cases, _ = await bounded(WARMUP, concurrency, lambda i: api.start_case(warmup_notices[i]))
    await sequential(warmup_cases, api.complete_task)
    warmup_handles, _ = await bounded(WARMUP, concurrency, lambda i: bare.start(warmup_ids[i]))
    await sequential(warmup_handles, bare.update)
    await asyncio.sleep(SETTLE)

    handles, bare_seconds = await bounded(cases, concurrency, lambda i: bare.start(bare_ids[i]))
    await asyncio.sleep(SETTLE)
    _, bare_with_start_seconds = await bounded(
        cases, concurrency, lambda i: bare.update_with_start(f"{bare_ids[i]}-uws")
    )
    await asyncio.sleep(SETTLE)
    case_ids, api_seconds = await bounded(cases, concurrency, lambda i: api.start_case(notices[i]))
    await asyncio.sleep(SETTLE)
    return Started(handles, case_ids, bare_seconds, bare_with_start_seconds, api_seconds)


async def measure(variants: Sequence[Running], cases: int, concurrency: int) -> list[Results]:
    run = uuid.uuid4().hex[:8]
    started = [await start_all(variant, f"{run}-{v}", cases, concurrency) for v, variant in enumerate(variants)]

    # One request of each variant in turn: drift during the run falls on all of them alike.
    bare_latencies = await alternating([(s.handles, v.bare.update) for s, v in zip(started, variants, strict=True)])
    await asyncio.sleep(SETTLE)
    api_latencies = await alternating(
        [(s.case_ids, v.api.complete_task) for s, v in zip(started, variants, strict=True)]
    )

    return [
        Results(
            api_seconds=s.api_seconds,
            bare_seconds=s.bare_seconds,
            bare_with_start_seconds=s.bare_with_start_seconds,
            api_latency=Latency.of(api),
            bare_latency=Latency.of(bare),
        )
        for s, api, bare in zip(started, api_latencies, bare_latencies, strict=True)
    ]


def listening_socket() -> socket.socket:
    """A socket on a free local port, handed to uvicorn so that no other process can take the port.

    IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on connections whose socket says
    so, and with Nagle's algorithm on every request would wait ~40 ms for a delayed ACK.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


async def serve_api(server: uvicorn.Server, sock: socket.socket) -> asyncio.Task[None]:
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()  # raises what stopped the server
            raise BenchError("the API server stopped before it started")
        await asyncio.sleep(0.05)
    return task


CONVERTERS: dict[str, Callable[[], DataConverter]] = {
    "without codec": lambda: pydantic_data_converter,
    "with codec": lambda: data_converter(BENCH_KEYRING),
}
BENCH_KEYRING = Keyring.parse(new_key_line("bench"))
# With the codec, commands are signed too, as in service: the worker made from the client checks them.
SIGNING: dict[str, list[CommandSigning]] = {"without codec": [], "with codec": [CommandSigning(BENCH_KEYRING)]}


@asynccontextmanager
async def stack(
    client: Client, engine: Engine, concurrency: int, tracer_provider: TracerProvider | None = None
) -> AsyncIterator[tuple[Api, Bare]]:
    """A reentry worker, a bare worker and the real API under uvicorn, all on ``client``
    (traced, when ``tracer_provider`` is given, as ``REENTRY_OTEL_EXPORTER`` does it)."""
    case_queue, bare_queue = f"bench-cases-{uuid.uuid4()}", f"bench-bare-{uuid.uuid4()}"
    settings = Settings(task_queue=case_queue, **TRUST_TEST_KEY)
    app = create_app(settings=settings, temporal_client=client, engine=engine, tracer_provider=tracer_provider)
    sock = listening_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    async with (
        build_worker(client, case_queue, engine, [registered_here, advice_requested]),
        Worker(client, task_queue=bare_queue, workflows=[BareWorkflow]),
    ):
        server_task = await serve_api(server, sock)
        try:
            limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60) as http:
                yield Api(http), Bare(client, bare_queue)
        finally:
            server.should_exit = True
            await server_task
            sock.close()


class OtlpSink:
    """A local OTLP/HTTP collector that takes the spans and throws them away, counting them:
    the exporter does all its work (protobuf, HTTP, in batches from its thread)."""

    def __init__(self) -> None:
        sink = self
        self.spans = self.batches = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802  (http.server's name)
                request = ExportTraceServiceRequest.FromString(self.rfile.read(int(self.headers["content-length"])))
                sink.batches += 1
                sink.spans += sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.endpoint = f"http://127.0.0.1:{self._server.server_port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


async def bench(
    cases: int, concurrency: int, database_url: str | None, variants: Sequence[Variant]
) -> tuple[list[Results], OtlpSink]:
    env = await dev_server()
    scratch = tempfile.TemporaryDirectory(prefix="reentry-bench-")
    sink = OtlpSink()
    # Spans as `REENTRY_OTEL_EXPORTER=otlp` sends them: redacted, in batches, over HTTP.
    provider = tracer_provider(Settings(otel_exporter="otlp", otel_endpoint=sink.endpoint), "reentry-bench")
    assert provider is not None
    try:
        # The read model, as `make run` has it (SQLite) unless a database is given.
        url = database_url or sqlite_url(Path(scratch.name))
        upgrade(url)
        engine = make_engine(url)
        async with AsyncExitStack() as stacks:
            running = []
            for variant in variants:
                traced = provider if variant.traced else None
                # One server, one connection; each variant's client converts, encrypts and traces its own way.
                client = Client(
                    env.client.service_client,
                    namespace=env.client.namespace,
                    data_converter=CONVERTERS[variant.codec](),
                    interceptors=[*SIGNING[variant.codec], *([tracing_interceptor(traced)] if traced else [])],
                )
                api, bare = await stacks.enter_async_context(stack(client, engine, concurrency, traced))
                running.append(Running(variant, api, bare))
            return await measure(running, cases, concurrency), sink
    finally:
        provider.shutdown()
        sink.close()
        await env.shutdown()
        scratch.cleanup()


# ---------------------------------------------------------------------------- the report


def report(
    variants: Sequence[Variant], results: Sequence[Results], cases: int, concurrency: int, sink: OtlpSink
) -> None:
    print(f"command: {shlex.join(sys.orig_argv)}")
    print(f"{cases} cases, {WARMUP} warm-up, concurrency {concurrency}, one Temporal dev server, one process")
    for variant, result in zip(variants, results, strict=True):
        api_rate, bare_rate = cases / result.api_seconds, cases / result.bare_seconds
        api, bare = result.api_latency, result.bare_latency
        print()
        print(f"== {variant.name}")
        print(f"starts per second (at most {concurrency} in flight)")
        print(f"  API cases started       {api_rate:8.1f} /s   ({cases} in {result.api_seconds:.2f} s)")
        with_start_rate = cases / result.bare_with_start_seconds
        print(f"  bare workflows started  {bare_rate:8.1f} /s   ({cases} in {result.bare_seconds:.2f} s)")
        print(
            f"  bare update-with-start  {with_start_rate:8.1f} /s   ({cases} in {result.bare_with_start_seconds:.2f} s)"
        )
        print(f"  ratio API / bare        {api_rate / bare_rate:8.2f}")
        print(f"  ratio API / bare u-w-s  {api_rate / with_start_rate:8.2f}")
        print()
        print("latency, one request at a time        p50         p99")
        print(f"  API complete task      {api.p50:8.1f} ms  {api.p99:8.1f} ms")
        print(f"  bare update            {bare.p50:8.1f} ms  {bare.p99:8.1f} ms")
        print(f"  ratio API / bare       {api.p50 / bare.p50:8.2f}     {api.p99 / bare.p99:8.2f}")
    measured = dict(zip(variants, results, strict=True))
    for codec in CONVERTERS:
        without, with_ = measured.get(Variant(codec, traced=False)), measured.get(Variant(codec, traced=True))
        if without and with_:
            cost(f"the cost of tracing, {codec} (traced - not traced)", without, with_, cases)
    for traced in (False, True):
        without, with_ = measured.get(Variant("without codec", traced)), measured.get(Variant("with codec", traced))
        if without and with_:
            cost(
                f"the cost of encryption, {'traced' if traced else 'not traced'} (with codec - without)",
                without,
                with_,
                cases,
            )
    if sink.batches:
        print()
        print(f"{sink.spans} spans exported over OTLP/HTTP in {sink.batches} batches to a local sink")


def cost(title: str, without: Results, with_: Results, cases: int) -> None:
    print()
    print(f"== {title}  p50                 p99")
    for what, a, b in [
        ("API complete task", without.api_latency, with_.api_latency),
        ("bare update      ", without.bare_latency, with_.bare_latency),
    ]:
        print(
            f"  {what}    {b.p50 - a.p50:+7.1f} ms ({(b.p50 / a.p50 - 1) * 100:+5.1f} %)"
            f"  {b.p99 - a.p99:+7.1f} ms ({(b.p99 / a.p99 - 1) * 100:+5.1f} %)"
        )
    rate = cases / with_.api_seconds - cases / without.api_seconds
    print(f"  API cases started    {rate:+7.1f} /s ({(without.api_seconds / with_.api_seconds - 1) * 100:+5.1f} %)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=positive, default=200, help="cases and bare workflows to start (default 200)")
    parser.add_argument("--concurrency", type=positive, default=20, help="starts in flight at once (default 20)")
    parser.add_argument(
        "--database-url", help="the read model (an empty, migrated database is fine); default a scratch SQLite file"
    )
    parser.add_argument(
        "--codec",
        choices=["both", "with", "without"],
        default="both",
        help="payload encryption: measure with and without it side by side (default), or one of them",
    )
    parser.add_argument(
        "--tracing",
        choices=["both", "on", "off"],
        default="off",
        help="tracing (spans over OTLP/HTTP to a local sink): off (default), on, or both side by side",
    )
    args = parser.parse_args()
    if args.cases < 2:
        parser.error("--cases must be at least 2 to give percentiles")
    codecs = list(CONVERTERS) if args.codec == "both" else [f"{args.codec} codec"]
    tracing = {"both": [False, True], "on": [True], "off": [False]}[args.tracing]
    variants = [Variant(codec, traced) for codec in codecs for traced in tracing]
    try:
        results, sink = asyncio.run(bench(args.cases, args.concurrency, args.database_url, variants))
    except BenchError as err:
        sys.exit(f"benchmark aborted: {err}")
    report(variants, results, args.cases, args.concurrency, sink)


if __name__ == "__main__":
    main()

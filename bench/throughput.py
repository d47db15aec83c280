"""What reentry's HTTP API costs on top of bare Temporal, measured on one real dev server.

One run starts a Temporal dev server (the ``temporal`` binary in this virtualenv; nothing
is downloaded), the reentry worker, a worker for a trivial "bare" workflow, and the real
API under uvicorn on a free local port, all in this process. It then measures:

1. Throughput: ``--cases`` cases started through ``POST /v1/notifications/detention-started``
   against as many bare workflows started with ``Client.start_workflow``, both with at most
   ``--concurrency`` requests in flight; wall time gives starts per second.
   Note the asymmetry: a bare start returns once the server has accepted it, while an
   API start is an update-with-start that returns only after the worker has run the
   case's first workflow task.
2. Latency: for each started case, one ``POST /v1/cases/{id}/tasks/contact_prison/complete``,
   against one trivial update on each bare workflow; one request at a time, so the
   figures are round trips, not queueing. Reported as p50 and p99.

It prints the figures, the ratios API / bare, and the command line used. Run it with:

    .venv/bin/python bench/throughput.py --cases 200 --concurrency 20
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# The made-up notices come from tests/helpers.py, which is not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import uvicorn
from temporalio import workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import create_app
from bench.arguments import positive
from domain.models import local_date
from store.db import make_engine, sqlite_url, upgrade
from tests.helpers import notice
from worker.settings import Settings
from worker.temporal import build_worker
from workflows import search_attributes

WARMUP = 5
TASK_KEY = "contact_prison"
ACTOR = "bench"
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
    latencies = []
    for item in items:
        started = time.perf_counter()
        await one(item)
        latencies.append((time.perf_counter() - started) * 1000)
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
    """The reentry HTTP API, as a partner system and a caseworker use it."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        # The workflow's today is the Dutch calendar date.
        self.today = local_date(datetime.now(UTC))

    def notices(self, count: int) -> list[dict[str, Any]]:
        return [notice(self.today).model_dump(mode="json") for _ in range(count)]

    async def start_case(self, body: dict[str, Any]) -> str:
        response = await self.http.post("/v1/notifications/detention-started", json=body)
        expect(response, 201, "start a case")
        receipt = response.json()
        if receipt.get("created") is not True:
            raise BenchError(f"start a case: the case already existed: {receipt}")
        return receipt["case_id"]

    async def complete_task(self, case_id: str) -> None:
        response = await self.http.post(
            f"/v1/cases/{case_id}/tasks/{TASK_KEY}/complete",
            headers={"X-Actor": ACTOR},
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
    api_latency: Latency
    bare_latency: Latency


async def measure(api: Api, bare: Bare, cases: int, concurrency: int) -> Results:
    run = uuid.uuid4().hex[:8]
    warmup_ids = [f"bare-{run}-warmup-{i}" for i in range(WARMUP)]
    bare_ids = [f"bare-{run}-{i}" for i in range(cases)]
    warmup_notices, notices = api.notices(WARMUP), api.notices(cases)

    # Warm up both paths end to end: connections, imports, validators, the worker caches.
    warmup_cases, _ = await bounded(WARMUP, concurrency, lambda i: api.start_case(warmup_notices[i]))
    await sequential(warmup_cases, api.complete_task)
    warmup_handles, _ = await bounded(WARMUP, concurrency, lambda i: bare.start(warmup_ids[i]))
    await sequential(warmup_handles, bare.update)
    await asyncio.sleep(SETTLE)

    handles, bare_seconds = await bounded(cases, concurrency, lambda i: bare.start(bare_ids[i]))
    await asyncio.sleep(SETTLE)
    case_ids, api_seconds = await bounded(cases, concurrency, lambda i: api.start_case(notices[i]))
    await asyncio.sleep(SETTLE)

    bare_latencies = await sequential(handles, bare.update)
    await asyncio.sleep(SETTLE)
    api_latencies = await sequential(case_ids, api.complete_task)

    return Results(
        api_seconds=api_seconds,
        bare_seconds=bare_seconds,
        api_latency=Latency.of(api_latencies),
        bare_latency=Latency.of(bare_latencies),
    )


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


async def bench(cases: int, concurrency: int, database_url: str | None) -> Results:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.prefix) / "bin" / "temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=search_attributes.ALL,
        ui=False,
        dev_server_log_level="error",
    )
    scratch = tempfile.TemporaryDirectory(prefix="reentry-bench-")
    try:
        # The read model, as `make run` has it (SQLite) unless a database is given.
        url = database_url or sqlite_url(Path(scratch.name))
        upgrade(url)
        engine = make_engine(url)
        case_queue, bare_queue = f"bench-cases-{uuid.uuid4()}", f"bench-bare-{uuid.uuid4()}"
        app = create_app(settings=Settings(task_queue=case_queue), temporal_client=env.client, engine=engine)
        sock = listening_socket()
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        async with (
            build_worker(env.client, case_queue, engine),
            Worker(env.client, task_queue=bare_queue, workflows=[BareWorkflow]),
        ):
            server_task = await serve_api(server, sock)
            try:
                limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60) as http:
                    return await measure(Api(http), Bare(env.client, bare_queue), cases, concurrency)
            finally:
                server.should_exit = True
                await server_task
                sock.close()
    finally:
        await env.shutdown()
        scratch.cleanup()


# ---------------------------------------------------------------------------- the report


def report(results: Results, cases: int, concurrency: int) -> None:
    api_rate, bare_rate = cases / results.api_seconds, cases / results.bare_seconds
    api, bare = results.api_latency, results.bare_latency
    print(f"command: {shlex.join(sys.orig_argv)}")
    print(f"{cases} cases, {WARMUP} warm-up, concurrency {concurrency}, one Temporal dev server, one process")
    print()
    print(f"starts per second (at most {concurrency} in flight)")
    print(f"  API cases started       {api_rate:8.1f} /s   ({cases} in {results.api_seconds:.2f} s)")
    print(f"  bare workflows started  {bare_rate:8.1f} /s   ({cases} in {results.bare_seconds:.2f} s)")
    print(f"  ratio API / bare        {api_rate / bare_rate:8.2f}")
    print()
    print("latency, one request at a time        p50         p99")
    print(f"  API complete task      {api.p50:8.1f} ms  {api.p99:8.1f} ms")
    print(f"  bare update            {bare.p50:8.1f} ms  {bare.p99:8.1f} ms")
    print(f"  ratio API / bare       {api.p50 / bare.p50:8.2f}     {api.p99 / bare.p99:8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=positive, default=200, help="cases and bare workflows to start (default 200)")
    parser.add_argument("--concurrency", type=positive, default=20, help="starts in flight at once (default 20)")
    parser.add_argument(
        "--database-url", help="the read model (an empty, migrated database is fine); default a scratch SQLite file"
    )
    args = parser.parse_args()
    if args.cases < 2:
        parser.error("--cases must be at least 2 to give percentiles")
    try:
        results = asyncio.run(bench(args.cases, args.concurrency, args.database_url))
    except BenchError as err:
        sys.exit(f"benchmark aborted: {err}")
    report(results, args.cases, args.concurrency)


if __name__ == "__main__":
    main()

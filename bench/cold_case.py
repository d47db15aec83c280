"""The first action on a case the worker does not hold in memory, by the case's age.

A worker keeps at most ``REENTRY_WORKER_CACHED_CASES`` case runs in memory; the first
touch of any other case replays its run's history before the update runs. This starts a
Temporal dev server (the ``temporal`` binary in this virtualenv), the API (in process,
over ASGI) and a worker, with encryption and command signing as in service, then:

1. starts ``--cases`` cases per age and ages them through the API: each age is a number
   of assignments (one update each, about eight history events), so the oldest cases
   have histories of a case months into its course;
2. stops the worker and starts a new one, so that no case is cached;
   then waits for the runs due to hand over to do so;
3. completes the first task of every case through the API, in a shuffled order, one at
   a time: the cold completion, with the events of the run that was replayed;
4. claims a task on every case again: the same round trip, warm;
5. reads the worker process's resident memory before step 3 and after step 4, with every
   case cached: the memory per cached case.

    .venv/bin/python bench/cold_case.py                      # 40 cases at each of 3 ages
    .venv/bin/python bench/cold_case.py --cases 100 --ages 0,60,150
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from temporalio.client import Client  # noqa: E402

from api.app import create_app  # noqa: E402
from bench.arguments import positive  # noqa: E402
from bench.servers import dev_server, service_client  # noqa: E402
from core.codec import Keyring, new_key_line  # noqa: E402
from core.settings import Settings, sqlite_url  # noqa: E402
from domain.models import local_date  # noqa: E402
from store.db import make_engine, upgrade  # noqa: E402
from tests.helpers import CAROLINE, PRISON, TRUST_TEST_KEY, advice_requested, notice, registered_here  # noqa: E402
from worker.temporal import build_worker  # noqa: E402
from workflows.case import HANDOVER_AFTER  # noqa: E402


def resident_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def _ok(response: httpx.Response) -> dict:
    if response.status_code >= 300:
        raise RuntimeError(f"{response.request.url.path}: {response.status_code} {response.text[:300]}")
    return response.json()


async def start_and_age(http: httpx.AsyncClient, age: int, today) -> str:
    body = notice(today).model_dump(mode="json")
    case_id = (await _ok(await http.post("/v1/notifications/detention-started", json=body, headers=PRISON)))["case_id"]
    for number in range(age):
        assignee = "anna" if number % 2 else "bram"
        await _ok(await http.post(f"/v1/cases/{case_id}/tasks/screening/assign", json={"assignee": assignee}))
    return case_id


async def history_length(client: Client, case_id: str) -> int:
    return (await client.get_workflow_handle(case_id).describe()).raw_description.workflow_execution_info.history_length


async def timed(call) -> float:
    start = time.perf_counter()
    await call
    return (time.perf_counter() - start) * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=positive, default=40, help="cases per age")
    parser.add_argument("--ages", default="0,40,120", help="assignments per case, one age per number")
    parser.add_argument("--concurrency", type=positive, default=10)
    args = parser.parse_args()
    ages = [int(a) for a in args.ages.split(",")]

    env = await dev_server()
    scratch = tempfile.TemporaryDirectory(prefix="reentry-cold-")
    keyring = Keyring.parse(new_key_line("bench"))
    client = service_client(env, keyring)
    try:
        url = sqlite_url(Path(scratch.name))
        upgrade(url)
        engine = make_engine(url)
        queue = f"bench-cold-{uuid.uuid4()}"
        app = create_app(settings=Settings(task_queue=queue, **TRUST_TEST_KEY), temporal_client=client, engine=engine)
        partners = [registered_here, advice_requested]
        today = local_date(await env.get_current_time())
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=transport, base_url="http://reentry.bench", headers=CAROLINE, timeout=60
            ) as http,
        ):
            began = time.perf_counter()
            by_age: dict[int, list[str]] = {}
            gate = asyncio.Semaphore(args.concurrency)

            async def one(age: int) -> str:
                async with gate:
                    return await start_and_age(http, age, today)

            async with build_worker(client, queue, engine, partners):
                for age in ages:
                    by_age[age] = list(await asyncio.gather(*(one(age) for _ in range(args.cases))))
                # Let each case's own first work settle, and a run due to hand over do so
                # (after HANDOVER_AFTER without a change), as it would between two visits.
                await asyncio.sleep(HANDOVER_AFTER.total_seconds() + 10)
            print(
                f"started and aged {sum(len(c) for c in by_age.values())} cases in {time.perf_counter() - began:.0f} s"
            )

            order = [(age, case_id) for age, cases in by_age.items() for case_id in cases]
            random.Random(7).shuffle(order)
            events = {case_id: await history_length(client, case_id) for _, case_id in order}
            cold: dict[int, list[float]] = {age: [] for age in ages}
            warm: dict[int, list[float]] = {age: [] for age in ages}
            before = resident_kib()
            async with build_worker(client, queue, engine, partners, cached_cases=len(order) + 100):
                contact = {"outcome": {"kind": "contact", "contacted_on": str(today)}}
                for age, case_id in order:
                    path = f"/v1/cases/{case_id}/tasks/contact_prison/complete"
                    cold[age].append(await timed(http.post(path, json=contact)))
                for age, case_id in order:
                    warm[age].append(await timed(http.post(f"/v1/cases/{case_id}/tasks/screening/claim")))
                after = resident_kib()

        print(
            f"\n{'assignments':>11} {'events in run':>14} {'cold p50 ms':>12} {'cold p95 ms':>12} {'warm p50 ms':>12}"
        )
        for age in ages:
            lengths = [events[c] for c in by_age[age]]
            print(
                f"{age:11d} {statistics.median(lengths):14.0f} {statistics.median(cold[age]):12.1f}"
                f" {percentile(cold[age], 0.95):12.1f} {statistics.median(warm[age]):12.1f}"
            )
        oldest, youngest = ages[-1], ages[0]
        ratio = percentile(cold[oldest], 0.95) / percentile(cold[youngest], 0.95)
        print(f"\ncold p95, oldest / youngest: {ratio:.2f}x")
        per_case = (after - before) / len(order)
        print(
            f"resident memory: {before / 1024:.0f} MiB before, {after / 1024:.0f} MiB with {len(order)} cases cached:"
            f" {per_case:.0f} KiB per cached case, {per_case * 12_000 / 1024 / 1024:.2f} GiB for 12,000 (extrapolated)"
        )
        print("command: .venv/bin/python bench/cold_case.py " + " ".join(sys.argv[1:]))
    finally:
        await env.shutdown()
        scratch.cleanup()


if __name__ == "__main__":
    asyncio.run(main())

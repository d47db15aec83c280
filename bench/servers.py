"""The Temporal dev server and the client the benchmarks run on."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from core.codec import Keyring
from core.signing import CommandSigning
from core.temporal import data_converter
from workflows import search_attributes


async def dev_server(**options: Any) -> WorkflowEnvironment:
    """A Temporal dev server from the ``temporal`` binary in this virtualenv (nothing is
    downloaded), with reentry's search attributes, quiet."""
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.prefix) / "bin" / "temporal"),
        search_attributes=search_attributes.ALL,
        ui=False,
        dev_server_log_level="error",
        **options,
    )


def service_client(env: WorkflowEnvironment, keyring: Keyring) -> Client:
    """A client of ``env`` as `reentry up` has one: payloads encrypted with ``keyring``,
    every command signed (a worker made from it checks the signatures)."""
    return Client(
        env.client.service_client,
        namespace=env.client.namespace,
        data_converter=data_converter(keyring),
        interceptors=[CommandSigning(keyring)],
    )

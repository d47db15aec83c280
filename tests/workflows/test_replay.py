"""Histories recorded from the scenarios replay against today's workflow code.

A change that would break a running case (a command added, removed or reordered for
the same history) fails here. Record new histories with `make histories` after a
deliberate, versioned change (`workflow.patched`), and keep the old ones.

They replay through the product's data converter, encryption included: histories
recorded before payloads were encrypted pass through it unchanged, later ones are
encrypted with the tests' key.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from core.codec import Keyring, new_key_line
from core.temporal import data_converter
from domain.models import local_date
from tests.helpers import TEST_KEYRING, notice
from worker.temporal import WORKFLOWS

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("*.json"))


def test_histories_are_kept():
    assert len(HISTORIES) >= 6, "record them with `make histories`"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_replays(path: Path):
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter(TEST_KEYRING))
    await replayer.replay_workflow(history)


async def test_an_encrypted_history_replays_with_its_key_and_only_with_it(env, cases):
    """What a worker does when it picks a case up again, after a restart or a rotation."""
    case = await cases(notice(local_date(await env.get_current_time())))
    await case.sleep_until(await case.today() + timedelta(days=1))
    await case.complete("contact_prison", {"kind": "contact", "contacted_on": (await case.today()).isoformat()})
    history = await case.handle.fetch_history()
    first = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    assert first.metadata["encryption-key-id"] == TEST_KEYRING.current.encode()

    await Replayer(workflows=WORKFLOWS, data_converter=data_converter(TEST_KEYRING)).replay_workflow(history)
    without_the_key = Keyring.parse(new_key_line("2031-a"))
    # The worker's log has the message naming the missing key; the replay failure its type.
    with pytest.raises(Exception, match="UnknownKeyError"):
        await Replayer(workflows=WORKFLOWS, data_converter=data_converter(without_the_key)).replay_workflow(history)

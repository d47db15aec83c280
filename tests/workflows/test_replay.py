"""Recorded histories replay against today's workflow code.

``tests/histories/*.json`` are recorded from the current code by ``make histories``: one
per scenario and partner path, named where the test that drives it calls
``keep_history``. Before the first release, a change that alters a history re-records
them all in the same commit. From the first release on, each release's histories are
kept in ``tests/histories/<release>/`` and replay here until the patches that protect
them are retired: a change that breaks one of those needs a ``workflow.patched`` gate,
never a new recording (docs/versioning.md).

They replay through the product's data converter, encryption included, with the tests' key.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from core.codec import Keyring, new_key_line
from core.signing import CommandSigning
from core.temporal import data_converter
from domain.models import local_date
from tests.helpers import TEST_KEYRING, notice
from worker.temporal import WORKFLOWS

FOLDER = Path(__file__).parent.parent / "histories"
HISTORIES = sorted(FOLDER.rglob("*.json"))
# As on a worker: the check of every command's signature replays too.
SIGNED = [CommandSigning(TEST_KEYRING)]


def test_every_recorded_course_has_a_history_and_no_history_is_stale():
    """What ``make histories`` records is what the tests name: nothing missing, nothing left over."""
    named = {
        name
        for source in Path(__file__).parent.glob("*.py")
        for name in re.findall(r'(?:keep_history\(|keep=)"([a-z_]+)"', source.read_text())
    }
    recorded = {path.stem.split(".run")[0] for path in FOLDER.glob("*.json")}
    assert len(named) >= 15
    assert named - recorded == set(), "record them with `make histories`"
    assert recorded - named == set(), "no test records these any more: `make histories` removes them"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_replays(path: Path):
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter(TEST_KEYRING), interceptors=SIGNED)
    await replayer.replay_workflow(history)


async def test_an_encrypted_history_replays_with_its_key_and_only_with_it(env, cases):
    """What a worker does when it picks a case up again, after a restart or a rotation."""
    case = await cases(notice(local_date(await env.get_current_time())))
    await case.sleep_until(await case.today() + timedelta(days=1))
    await case.complete("contact_prison", {"kind": "contact", "contacted_on": (await case.today()).isoformat()})
    history = await case.handle.fetch_history()
    first = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    assert first.metadata["encryption-key-id"] == TEST_KEYRING.current.encode()

    await Replayer(
        workflows=WORKFLOWS, data_converter=data_converter(TEST_KEYRING), interceptors=SIGNED
    ).replay_workflow(history)
    without_the_key = Keyring.parse(new_key_line("2031-a"))
    # The worker's log has the message naming the missing key; the replay failure its type.
    with pytest.raises(Exception, match="UnknownKeyError"):
        await Replayer(
            workflows=WORKFLOWS, data_converter=data_converter(without_the_key), interceptors=SIGNED
        ).replay_workflow(history)

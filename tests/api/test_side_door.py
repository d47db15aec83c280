"""The Temporal frontend is no side door: commands sent there with Temporal's own command
line, past the API, change no case and leave no trace in its history (``core.signing``)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from temporalio.api.enums.v1 import EventType

from tests.api.test_cases import local_date_now, start
from tests.helpers import CAROLINE, settled

BIN = Path(sys.prefix) / "bin"


async def temporal_cli(dev_env, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        str(BIN / "temporal"),
        *args,
        "--address",
        dev_env.client.service_client.config.target_host,
        "--namespace",
        dev_env.client.namespace,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


def update(case_id: str, name: str, payload: dict, *extra: str) -> list[str]:
    return [
        "workflow",
        "update",
        "execute",
        "--workflow-id",
        case_id,
        "--name",
        name,
        "--input",
        json.dumps(payload),
        *extra,
    ]


async def test_commands_past_the_api_are_refused_and_leave_no_trace(api, dev_env):
    case_id = await start(api)
    handle = dev_env.client.get_workflow_handle(case_id)
    await settled(dev_env.client, case_id)
    # One command through the API, so that its signature is in the history to copy.
    claimed = await api.post(f"/v1/cases/{case_id}/tasks/screening/claim", headers=CAROLINE)
    assert claimed.status_code == 200, claimed.text
    history = await handle.fetch_history()
    # The notice's update first, then the claim.
    *_, accepted = [
        e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]
    signature = accepted.workflow_execution_update_accepted_event_attributes.accepted_request.input.header.fields[
        "reentry-signature"
    ]
    before = len(history.events)

    today = str(local_date_now())
    attempts = {
        "claim": update(case_id, "claim_task", {"task_key": "contact_prison", "actor": "mallory"}),
        "complete": update(
            case_id,
            "complete_task",
            {"task_key": "contact_prison", "actor": "mallory", "outcome": {"kind": "contact", "contacted_on": today}},
        ),
        "assign": update(case_id, "assign_task", {"task_key": "contact_prison", "actor": "mallory", "assignee": "m"}),
        "event": update(case_id, "record_event", {"actor": "mallory", "event": {"type": "deceased"}}),
        "erase": update(case_id, "erase_offence", {"actor": "mallory"}),
        # The API's own signature, copied onto another command, fits only its own.
        "copied signature": update(
            case_id,
            "claim_task",
            {"task_key": "contact_prison", "actor": "mallory"},
            "--headers",
            f"reentry-signature={signature.data.decode()}",
        ),
    }
    for what, args in attempts.items():
        code, output = await temporal_cli(dev_env, *args)
        assert code != 0, f"{what}: {output}"

    assert len((await handle.fetch_history()).events) == before
    case = (await api.get(f"/v1/cases/{case_id}")).json()
    contact = next(t for t in case["tasks"] if t["key"] == "contact_prison")
    assert case["phase"] != "closed" and case["offence_category"] is not None
    assert contact["status"] == "open" and contact["assignee"] is None
    # And the API still works: the refusal is the frontend's, not the case's.
    taken = await api.post(f"/v1/cases/{case_id}/tasks/contact_prison/claim", headers=CAROLINE)
    assert taken.status_code == 200 and taken.json()["assignee"] == "caroline"

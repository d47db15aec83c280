"""An Idempotency-Key on a change: the same request sent again gets the first answer, even
when that answer was lost, and never changes the case twice."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlalchemy import func, select
from sqlmodel import Session

from api.app import create_app
from core.settings import Settings
from store.tables import IdempotencyKeyRow
from tests.api.test_cases import is_problem, local_date_now, start
from tests.helpers import CAROLINE, STAND_INS, TRUST_TEST_KEY, bearer
from worker.temporal import build_worker


def contact(note: str = "gebeld") -> dict:
    return {"outcome": {"kind": "contact", "contacted_on": str(local_date_now()), "note": note}}


async def test_a_repeat_with_its_key_gets_the_first_answer(api, engine):
    case_id = await start(api)
    complete = f"/v1/cases/{case_id}/tasks/contact_prison/complete"
    key = {"Idempotency-Key": str(uuid.uuid4())}

    first = await api.post(complete, json=contact(), headers={**CAROLINE, **key})
    assert first.status_code == 200, first.text
    again = await api.post(complete, json=contact(), headers={**CAROLINE, **key})
    assert (again.status_code, again.json()) == (200, first.json())
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    # Without the key the same request is a new one, and the task is done already.
    assert is_problem(await api.post(complete, json=contact(), headers=CAROLINE), 409)["type"].endswith("TaskNotOpen")

    # The same key with another request is refused, and changes nothing.
    other = await api.post(complete, json=contact("iets anders"), headers={**CAROLINE, **key})
    assert is_problem(other, 422)["type"].endswith("idempotency-key-reused")
    # Another user's key is their own, even when it reads the same.
    claim = f"/v1/cases/{case_id}/tasks/screening/claim"
    dirk = await api.post(claim, headers={**bearer("dirk", "caseworker"), **key})
    assert dirk.status_code == 200 and dirk.json()["assignee"] == "dirk"

    case = (await api.get(f"/v1/cases/{case_id}")).json()
    assert [h["action"] for h in case["history"]].count("task_completed") == 1
    done = next(t for t in case["tasks"] if t["key"] == "contact_prison")
    assert done["outcome"]["note"] == "gebeld"

    for bad in ("", "met spatie", "x" * 256, "tab\there"):
        refused = await api.post(claim, headers={**CAROLINE, "Idempotency-Key": bad})
        assert is_problem(refused, 422)["type"].endswith("invalid-idempotency-key"), bad
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(IdempotencyKeyRow)).scalar_one() == 2


async def test_a_change_whose_answer_was_lost_is_answered_on_retry_and_applied_once(dev_env, engine):
    """The 503 the API gives when no worker answers in time: the update may still be
    applied later. Sent again with its key, it is the same update, answered with its result."""
    queue = f"api-{uuid.uuid4()}"
    app = create_app(
        settings=Settings(task_queue=queue, update_timeout=2, **TRUST_TEST_KEY),
        temporal_client=dev_env.client,
        engine=engine,
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reentry.test") as api,
    ):
        async with build_worker(dev_env.client, queue, engine, STAND_INS):
            case_id = await start(api)
        complete = f"/v1/cases/{case_id}/tasks/contact_prison/complete"
        key = {**CAROLINE, "Idempotency-Key": str(uuid.uuid4())}
        lost = await api.post(complete, json=contact(), headers=key)
        is_problem(lost, 503)

        async with build_worker(dev_env.client, queue, engine, STAND_INS):
            for _ in range(30):
                retried = await api.post(complete, json=contact(), headers=key)
                if retried.status_code != 503:
                    break
                await asyncio.sleep(0.5)
            assert retried.status_code == 200, retried.text
            assert retried.json()["status"] == "completed" and retried.json()["completed_by"] == "caroline"
            case = (await api.get(f"/v1/cases/{case_id}", headers=CAROLINE)).json()
            assert [h["action"] for h in case["history"]].count("task_completed") == 1

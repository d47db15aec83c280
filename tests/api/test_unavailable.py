"""When no worker answers, the API says so in time, and a retried notice is one case."""

from __future__ import annotations

import uuid

import httpx

from api.app import create_app
from core.settings import Settings
from tests.api.test_cases import is_problem, notice_body
from tests.helpers import CAROLINE, PRISON, STAND_INS, TRUST_TEST_KEY
from worker.temporal import build_worker


async def test_no_worker_answers_503_and_a_retry_starts_the_case_once(dev_env, engine):
    queue = f"api-{uuid.uuid4()}"
    app = create_app(
        settings=Settings(task_queue=queue, update_timeout=1, **TRUST_TEST_KEY),
        temporal_client=dev_env.client,
        engine=engine,
    )
    body = notice_body()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reentry.test") as api,
    ):
        waiting = await api.post("/v1/notifications/detention-started", json=body, headers=PRISON)
        assert "worker" in is_problem(waiting, 503)["detail"]
        assert waiting.headers["retry-after"]

        async with build_worker(dev_env.client, queue, engine, STAND_INS):
            # The start was durable; the first update may or may not have waited for the
            # worker. Either way the retry finds one case with that id.
            retried = await api.post("/v1/notifications/detention-started", json=body, headers=PRISON)
            assert retried.status_code in (200, 201), retried.text
            assert retried.json()["case_id"] == f"case-{body['detention_id']}"
            again = await api.post("/v1/notifications/detention-started", json=body, headers=PRISON)
            assert again.status_code == 200
            case = (await api.get(f"/v1/cases/{retried.json()['case_id']}", headers=CAROLINE)).json()
            assert case["phase"] == "notified"
            assert [h["action"] for h in case["history"]].count("case_started") == 1


async def test_at_the_default_timeout_every_call_into_a_case_answers_503_by_its_deadline(dev_env, workflow_engine):
    """The server ends an update's long poll before the SDK's RPC timeout, and the SDK then
    polls again: beyond about 20 s only the API's own deadline brings the 503. (Half a
    minute of waiting: on SQLite only.)"""
    engine = workflow_engine
    import asyncio
    import time

    from sqlalchemy import select
    from sqlmodel import Session

    from store.tables import AuditRow

    queue = f"api-{uuid.uuid4()}"
    settings = Settings(task_queue=queue, **TRUST_TEST_KEY)
    assert settings.update_timeout == 30
    app = create_app(settings=settings, temporal_client=dev_env.client, engine=engine)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reentry.test") as api,
    ):
        async with build_worker(dev_env.client, queue, engine, STAND_INS):
            started = await api.post("/v1/notifications/detention-started", json=notice_body(), headers=PRISON)
            assert started.status_code == 201, started.text
        case_id = started.json()["case_id"]
        # No worker from here on.
        began = time.monotonic()
        claim, read, notice = await asyncio.gather(
            api.post(f"/v1/cases/{case_id}/tasks/contact_prison/claim", headers=CAROLINE),
            api.get(f"/v1/cases/{case_id}", headers=CAROLINE),
            api.post("/v1/notifications/detention-started", json=notice_body(), headers=PRISON),
        )
        waited = time.monotonic() - began
    for response in (claim, read, notice):
        assert "Sending the same request again is safe" in is_problem(response, 503)["detail"]
        assert response.headers["retry-after"] == "5"
    assert 30 <= waited < 35
    with Session(engine) as session:
        row = session.exec(select(AuditRow).where(AuditRow.request_id == claim.headers["x-request-id"])).scalars().one()
    # The audit log records what the caller was told.
    assert (row.action, row.status) == ("task.claim", 503)

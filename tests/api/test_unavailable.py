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

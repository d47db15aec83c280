"""The HTTP API against a real Temporal dev server and worker."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import Session
from temporalio.service import RPCError, RPCStatusCode

from api.app import create_app
from core.settings import Settings
from domain.models import local_date
from store.db import make_engine
from store.tables import AuditRow
from tests.helpers import CAROLINE, PRISON, STAND_INS, TRUST_TEST_KEY, bearer, next_bsn, notice, settled
from worker.temporal import build_worker
from workflows.case import CaseWorkflow


def notice_body(**changes) -> dict:
    today = local_date_now()
    body = notice(today, release_in=timedelta(weeks=20)).model_dump(mode="json")
    body.update(changes)
    return body


def local_date_now() -> date:
    from datetime import UTC, datetime

    return local_date(datetime.now(UTC))


def is_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    return problem


async def start(api: httpx.AsyncClient, **changes) -> str:
    response = await api.post("/v1/notifications/detention-started", json=notice_body(**changes), headers=PRISON)
    assert response.status_code == 201, response.text
    return response.json()["case_id"]


async def test_notice_starts_one_case(api, dev_env):
    body = notice_body()
    first = await api.post("/v1/notifications/detention-started", json=body, headers=PRISON)
    assert first.status_code == 201
    case_id = first.json()["case_id"]
    assert case_id == f"case-{body['detention_id']}"
    assert first.headers["location"] == f"/v1/cases/{case_id}"

    repeat = await api.post("/v1/notifications/detention-started", json=body, headers=PRISON)
    assert repeat.status_code == 200
    assert repeat.json() == {"case_id": case_id, "created": False}

    # The same detention about another person is the sender's mistake: a 409, nothing changed.
    handle = dev_env.client.get_workflow_handle(case_id)
    await settled(dev_env.client, case_id)
    history = len((await handle.fetch_history()).events)
    other = {"bsn": next_bsn(), "given_names": "Ander", "surname": "Mens", "birth_date": "1991-02-03"}
    mixed_up = await api.post("/v1/notifications/detention-started", json={**body, "person": other}, headers=PRISON)
    assert is_problem(mixed_up, 409)["type"].endswith("NoticeConflict")
    assert other["bsn"] not in mixed_up.text and body["person"]["bsn"] not in mixed_up.text
    assert len((await handle.fetch_history()).events) == history
    names = (await api.get("/v1/cases/residents", params={"case_id": case_id})).json()["residents"]
    assert names[0]["surname"] == body["person"]["surname"]

    read = await api.get(f"/v1/cases/{case_id}")
    # Answers that name a resident are kept by no browser or proxy; refusals neither.
    assert {first.headers["cache-control"], read.headers["cache-control"]} == {"no-store"}
    assert mixed_up.headers["cache-control"] == "no-store"
    case = read.json()
    assert case["phase"] == "notified"
    assert case["expected_release"] == body["expected_release"]
    contact = next(t for t in case["tasks"] if t["key"] == "contact_prison")
    assert {"key", "status", "due", "escalation_level", "at_risk"} <= contact.keys()
    assert contact["status"] == "open" and contact["guidance"]

    described = await dev_env.client.get_workflow_handle(case_id).describe()
    assert body["person"]["bsn"] not in case_id
    assert all(
        body["person"]["bsn"] not in str(v)
        for v in described.raw_description.workflow_execution_info.search_attributes.indexed_fields.values()
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"person": {"bsn": "123456789", "given_names": "A", "surname": "B", "birth_date": "1990-01-01"}},
            "body.person.bsn",
        ),
        ({"municipality": "363"}, "body.municipality"),
        ({"detention_id": "DJI 1/2"}, "body.detention_id"),
        ({"expected_release": "2001-01-01"}, "body"),
        ({"offence_category": "jaywalking"}, "body.offence_category"),
        ({"offence_category": None}, "body.offence_category"),  # only retention empties it
        ({"conviction_final": None}, "body.conviction_final"),
        ({"surprise": True}, "body.surprise"),
        # Strict: a yes or no is a JSON boolean, a date is YYYY-MM-DD.
        ({"conviction_final": "yes"}, "body.conviction_final"),
        ({"conviction_final": 1}, "body.conviction_final"),
        ({"detention_start": 20000}, "body.detention_start"),
        ({"detention_start": "2026-11-01T00:00:00"}, "body.detention_start"),
        # No control or text-direction characters, and a name is one line.
        *(
            (
                {"person": {"bsn": next_bsn(), "given_names": name, "surname": "B", "birth_date": "1990-01-01"}},
                "body.person.given_names",
            )
            for name in ("Jan\x00", "\u202enaJ", "\x1b[31mJan", "Jan\nPiet")
        ),
        # Municipalities by the CBS list: 0000 and 9999 are none.
        ({"municipality": "0000"}, "body.municipality"),
        ({"municipality": "9999"}, "body.municipality"),
    ],
)
async def test_invalid_notice_is_refused_and_starts_nothing(api, dev_env, change, field):
    body = notice_body(**change)
    response = await api.post("/v1/notifications/detention-started", json=body, headers=PRISON)
    problem = is_problem(response, 422)
    assert field in [e["field"] for e in problem["errors"]]
    assert next_bsn() not in response.text
    with pytest.raises(RPCError) as err:
        await dev_env.client.get_workflow_handle(f"case-{body['detention_id']}").describe()
    assert err.value.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT)


async def test_invalid_bsn_is_not_echoed(api):
    response = await api.post(
        "/v1/notifications/detention-started",
        json=notice_body(person={"bsn": "111222334", "given_names": "A", "surname": "B", "birth_date": "1990-01-01"}),
        headers=PRISON,
    )
    is_problem(response, 422)
    assert "111222334" not in response.text


async def test_task_lifecycle_and_errors(api):
    case_id = await start(api)
    today = str(local_date_now())
    base = f"/v1/cases/{case_id}/tasks"

    claimed = await api.post(f"{base}/contact_prison/claim", headers=CAROLINE)
    assert claimed.status_code == 200 and claimed.json()["assignee"] == "caroline"
    taken = await api.post(f"{base}/contact_prison/claim", headers=bearer("dirk", "caseworker"))
    assert is_problem(taken, 409)["type"].endswith("TaskAssignedToOther")

    is_problem(await api.post(f"{base}/no_such_task/complete", json={}, headers=CAROLINE), 404)
    is_problem(await api.post(f"{base}/contact_prison/complete", json={}, headers=CAROLINE), 422)
    is_problem(
        await api.post(f"{base}/contact_prison/complete", json={"outcome": {"kind": "contact"}}, headers=CAROLINE), 422
    )
    is_problem(await api.post(f"{base}/contact_prison/complete", json={"outcome": None}), 422)  # no actor
    blocked = await api.post(
        f"{base}/reintegration_plan/complete", json={"outcome": {"kind": "plan", "agreed_on": today}}, headers=CAROLINE
    )
    assert "contact_prison" in is_problem(blocked, 409)["detail"]

    done = await api.post(
        f"{base}/contact_prison/complete",
        json={"outcome": {"kind": "contact", "contacted_on": today, "note": "gebeld met casemanager"}},
        headers=CAROLINE,
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed" and done.json()["completed_by"] == "caroline"
    again = await api.post(
        f"{base}/contact_prison/complete",
        json={"outcome": {"kind": "contact", "contacted_on": today}},
        headers=CAROLINE,
    )
    assert is_problem(again, 409)["type"].endswith("TaskNotOpen")

    assigned = await api.post(
        f"{base}/screening/assign", json={"assignee": "dirk", "team": "regio-team"}, headers=CAROLINE
    )
    assert assigned.json()["assignee"] == "dirk" and assigned.json()["team"] == "regio-team"
    is_problem(await api.post(f"{base}/screening/assign", json={}, headers=CAROLINE), 422)

    case = (await api.get(f"/v1/cases/{case_id}")).json()
    assert case["phase"] == "planning"
    assert [h["actor"] for h in case["history"] if h["action"] == "task_completed"] == ["caroline"]


async def test_a_merged_municipality_is_its_successor(api):
    # Uden (0856) merged into Maashorst (1991) in 2022: a notice naming Uden is Maashorst's case.
    case_id = await start(api, municipality="0856")
    assert (await api.get(f"/v1/cases/{case_id}")).json()["municipality"] == "1991"


async def test_assignees_are_user_names_and_notes_keep_their_lines(api):
    case_id = await start(api)
    base = f"/v1/cases/{case_id}/tasks"
    for assignee in ("anna\nBcc: mallory", "anna@tilburg.nl", "an na", "-anna"):
        refused = await api.post(f"{base}/screening/assign", json={"assignee": assignee}, headers=CAROLINE)
        assert "body.assignee" in [e["field"] for e in is_problem(refused, 422)["errors"]], assignee
    for team in ("regio\tteam", "regio team"):
        refused = await api.post(f"{base}/screening/assign", json={"team": team}, headers=CAROLINE)
        is_problem(refused, 422)
    case = (await api.get(f"/v1/cases/{case_id}")).json()
    assert next(t for t in case["tasks"] if t["key"] == "screening")["assignee"] is None

    outcome = {"kind": "contact", "contacted_on": str(local_date_now()), "note": "gebeld\n\tterugbellen vrijdag"}
    done = await api.post(f"{base}/contact_prison/complete", json={"outcome": outcome}, headers=CAROLINE)
    assert done.status_code == 200, done.text
    outcome["note"] = "gebeld\u202e"
    # Checked before the case is asked: a 422, not the 409 of a task already done.
    refused = await api.post(f"{base}/contact_prison/complete", json={"outcome": outcome}, headers=CAROLINE)
    assert any(e["field"].endswith("note") for e in is_problem(refused, 422)["errors"])


async def test_rejected_update_writes_nothing_to_history(api, dev_env):
    case_id = await start(api)
    handle = dev_env.client.get_workflow_handle_for(CaseWorkflow.run, case_id)
    await settled(dev_env.client, case_id)  # its own work of the first day is done
    before = len((await handle.fetch_history()).events)
    for path, body in [
        ("tasks/no_such_task/complete", {}),
        ("tasks/reintegration_plan/complete", {"outcome": {"kind": "plan", "agreed_on": str(local_date_now())}}),
        ("events", {"type": "moved", "municipality": "0855"}),
    ]:
        response = await api.post(f"/v1/cases/{case_id}/{path}", json=body, headers=CAROLINE)
        assert response.status_code in (404, 409), response.text
    assert len((await handle.fetch_history()).events) == before


async def test_events(api):
    case_id = await start(api, municipality="0855")
    events = f"/v1/cases/{case_id}/events"
    later = str(local_date_now() + timedelta(weeks=30))
    moved = await api.post(
        events, json={"type": "expected_release_changed", "expected_release": later}, headers=CAROLINE
    )
    assert moved.status_code == 200, moved.text
    assert (await api.get(f"/v1/cases/{case_id}")).json()["expected_release"] == later

    is_problem(await api.post(events, json={"type": "teleported"}, headers=CAROLINE), 422)
    is_problem(await api.post(events, json={"type": "released", "released_on": "1999-01-01"}, headers=CAROLINE), 422)
    is_problem(await api.post(events, json={"type": "consent_withdrawn", "condition": "luck"}, headers=CAROLINE), 422)

    declined = await api.post(events, json={"type": "declined", "note": "wil geen hulp"}, headers=CAROLINE)
    assert declined.status_code == 200, declined.text
    assert declined.json()["phase"] == "closed" and declined.json()["closed_reason"] == "declined"

    closed = await api.post(f"/v1/cases/{case_id}/tasks/contact_prison/claim", headers=CAROLINE)
    assert is_problem(closed, 409)["type"].endswith("CaseClosed")
    assert (await api.get(f"/v1/cases/{case_id}")).json()["closed_reason"] == "declined"


async def test_unknown_case(api):
    is_problem(await api.get("/v1/cases/case-DJI-0000-NOPE"), 404)
    is_problem(await api.get("/v1/cases/not-a-case"), 404)
    is_problem(await api.post("/v1/cases/case-DJI-0000-NOPE/events", json={"type": "declined"}, headers=CAROLINE), 404)


async def test_health(api):
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    assert (await api.get("/readyz")).json() == {"status": "ready"}


async def test_an_unexpected_error_is_a_problem_too(dev_env, engine):
    from api.app import create_app
    from core.settings import Settings

    app = create_app(settings=Settings(**TRUST_TEST_KEY), temporal_client=dev_env.client, engine=engine)

    @app.get("/v1/broken")
    async def broken() -> None:
        raise RuntimeError("123456782 Jan Jansen")

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://reentry.test"
        ) as api,
    ):
        response = await api.get("/v1/broken")
    assert is_problem(response, 500)["detail"]
    assert "Jansen" not in response.text


async def test_re_detention_closes_only_on_a_detention_of_the_same_person(api):
    """Scenario 6 by the API: a re-detention naming another person's case is refused and
    changes nothing; one naming a detention reentry does not know (a typo, or a notice
    still to come) leaves the case open, waiting; the right one closes it."""
    case_id = await start(api)
    stranger = await start(api)
    other = await api.post(
        f"/v1/cases/{case_id}/events",
        json={"type": "re_detained", "new_detention_id": stranger.removeprefix("case-")},
        headers=PRISON,
    )
    assert "another person" in is_problem(other, 409)["detail"]
    case = (await api.get(f"/v1/cases/{case_id}")).json()
    assert case["phase"] != "closed" and case["next_case_id"] is None
    assert "re_detained" not in [h["action"] for h in case["history"]]

    typo = await api.post(
        f"/v1/cases/{case_id}/events", json={"type": "re_detained", "new_detention_id": "DJI-TYPO-1"}, headers=PRISON
    )
    assert typo.status_code == 200 and typo.json()["phase"] != "closed", typo.text
    assert (await api.get(f"/v1/cases/{case_id}")).json()["next_case_id"] == "case-DJI-TYPO-1"

    person = (await api.get(f"/v1/cases/{case_id}")).json()["person"]
    again = await start(api, person=person)
    done = await api.post(
        f"/v1/cases/{case_id}/events",
        json={"type": "re_detained", "new_detention_id": again.removeprefix("case-")},
        headers=PRISON,
    )
    assert done.status_code == 200, done.text
    assert (done.json()["phase"], done.json()["closed_reason"]) == ("closed", "re_detained")


async def test_cases_name_their_residents_and_nothing_more(api, engine):
    tilburg, breda = await start(api), await start(api, municipality="0758")
    anna = bearer("anna", "caseworker", municipalities=("0855",))
    named = await api.get("/v1/cases/residents", params={"case_id": [tilburg, breda, "case-DJI-NONE"]}, headers=anna)
    assert named.status_code == 200
    # Breda's case is out of Anna's reach: left out, as the case that does not exist.
    assert named.json() == {"residents": [{"case_id": tilburg, "given_names": "Jan", "surname": "Jansen"}]}
    with Session(engine) as session:
        rows = (
            session.exec(select(AuditRow).where(AuditRow.request_id == named.headers["x-request-id"])).scalars().all()
        )
    assert {(r.case_id, r.action, r.outcome) for r in rows} == {
        (tilburg, "case.read", "allowed"),
        (breda, "case.read", "refused"),
    }
    too_many = await api.get("/v1/cases/residents", params={"case_id": [tilburg] * 51}, headers=anna)
    assert is_problem(too_many, 422)


async def test_more_requests_in_flight_than_database_connections_are_all_answered(
    dev_env, engine, database_url, api_task_queue
):
    """A request that waits for a case to answer holds no database connection meanwhile:
    with one connection for the API and the worker together, four caseworkers who
    complete a task at the same moment all get their answer."""
    narrow = make_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=2)
    app = create_app(
        settings=Settings(task_queue=api_task_queue, **TRUST_TEST_KEY), temporal_client=dev_env.client, engine=narrow
    )
    today = local_date(datetime.now(UTC))
    try:
        async with (
            build_worker(dev_env.client, api_task_queue, narrow, STAND_INS),
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reentry.test") as api,
        ):
            case_ids = []
            for _ in range(4):
                started = await api.post(
                    "/v1/notifications/detention-started", json=notice(today).model_dump(mode="json"), headers=PRISON
                )
                assert started.status_code == 201, started.text
                case_ids.append(started.json()["case_id"])
            contact = {"outcome": {"kind": "contact", "contacted_on": today.isoformat()}}
            done = await asyncio.gather(
                *(
                    api.post(f"/v1/cases/{c}/tasks/contact_prison/complete", json=contact, headers=CAROLINE)
                    for c in case_ids
                )
            )
            assert [d.status_code for d in done] == [200] * 4, [d.text for d in done]
            # And the read model shows each completion, as the answer promised.
            tasks = await api.get("/v1/tasks", params={"status": "completed", "limit": 200}, headers=CAROLINE)
            assert tasks.status_code == 200, tasks.text
            completed = {t["case_id"] for t in tasks.json()["items"] if t["key"] == "contact_prison"}
            assert completed >= set(case_ids)
    finally:
        narrow.dispose()

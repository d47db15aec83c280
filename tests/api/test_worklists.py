"""Worklists, supervisor views and the rebuild, through the API, on both databases."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta

from sqlmodel import SQLModel

from api.deps import now
from domain.models import Phase
from domain.projection import CaseProjection
from store.db import upgrade
from store.projection import write_projection
from tests.api.test_cases import is_problem, local_date_now, notice_body
from tests.helpers import CAROLINE, PRISON, bearer
from worker.rebuild import OPEN_CASES, rebuild_projection

SCREENING = {
    "id_document": "needs_action",
    "income": "needs_action",
    "housing": "in_order",
    "work_daytime": "unknown",
    "care": "no_consent",
    "debts": "needs_action",
    "social_network": "in_order",
}


async def start(api, **changes) -> str:
    response = await api.post("/v1/notifications/detention-started", json=notice_body(**changes), headers=PRISON)
    assert response.status_code == 201, response.text
    return response.json()["case_id"]


async def all_pages(api, path: str, params: dict) -> list[dict]:
    items, cursor = [], None
    while True:
        page = (await api.get(path, params={**params, **({"cursor": cursor} if cursor else {})})).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


async def test_inbox_read_your_writes(api):
    case_id = await start(api)
    mine = await api.get("/v1/tasks", params={"assignee": "me"}, headers=CAROLINE)
    assert mine.json()["items"] == []
    await api.post(f"/v1/cases/{case_id}/tasks/contact_prison/claim", headers=CAROLINE)
    mine = (await api.get("/v1/tasks", params={"assignee": "me"}, headers=CAROLINE)).json()["items"]
    assert [(t["case_id"], t["key"]) for t in mine] == [(case_id, "contact_prison")]
    assert mine[0]["due_reason"] == "own deadline", "the inbox says why a task is due when it is"

    done = await api.post(
        f"/v1/cases/{case_id}/tasks/contact_prison/complete",
        json={"outcome": {"kind": "contact", "contacted_on": str(local_date_now())}},
        headers=CAROLINE,
    )
    assert done.status_code == 200
    # Straight after the answer, without waiting: the inbox no longer shows it as open.
    assert (await api.get("/v1/tasks", params={"assignee": "me"}, headers=CAROLINE)).json()["items"] == []
    completed = await api.get("/v1/tasks", params={"assignee": "me", "status": "completed"}, headers=CAROLINE)
    assert [t["key"] for t in completed.json()["items"]] == ["contact_prison"]


async def test_filters_sorting_and_pages(api):
    ids = [await start(api, municipality=m) for m in ("0772", "0772", "0855")]
    for case_id in ids:
        screening = {"outcome": {"kind": "screening", "conditions": SCREENING}}
        assert (
            await api.post(f"/v1/cases/{case_id}/tasks/screening/complete", json=screening, headers=CAROLINE)
        ).status_code == 200
    eindhoven = await all_pages(api, "/v1/tasks", {"municipality": "0772", "limit": 2})
    assert {t["case_id"] for t in eindhoven} == set(ids[:2])
    keys = [(t["case_id"], t["key"]) for t in eindhoven]
    assert len(keys) == len(set(keys)), "no task twice across pages"
    dues = [t["due"] or "9999" for t in eindhoven]
    assert dues == sorted(dues), "by due date, tasks without a date last"

    income = await all_pages(api, "/v1/tasks", {"condition": "income", "limit": 1})
    assert {t["key"] for t in income} == {"benefit_application", "benefit_decision"}
    assert len(income) == 6
    assert all(
        t["condition"] == "debts" for t in (await api.get("/v1/tasks", params={"condition": "debts"})).json()["items"]
    )
    by_priority = (await api.get("/v1/tasks", params={"sort": "priority"})).json()["items"]
    assert [t["priority"] for t in by_priority] == sorted((t["priority"] for t in by_priority), reverse=True)

    cases = await all_pages(api, "/v1/cases", {"municipality": "0772", "phase": "notified", "limit": 1})
    assert sorted(c["case_id"] for c in cases) == sorted(ids[:2])
    assert (await api.get("/v1/cases", params={"closed_reason": "declined"})).json()["items"] == []
    is_problem(await api.get("/v1/tasks", params={"municipality": "Eindhoven"}), 422)


def _cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


async def test_a_cursor_it_did_not_give_out_is_refused_on_every_list(api):
    """Only a cursor of the list's own shape is used: objects, lists, bools or numbers where
    strings were are a 422 that says so, never a query (on SQLite and PostgreSQL)."""
    await api.post("/v1/notifications/detention-started", json=notice_body(), headers=PRISON)
    objects = [{"a": 1}, {"b": 2}, {"c": 3}]
    forged = {
        "/v1/tasks": [objects, [1, *objects], ["2027-01-01T00:00:00+00:00", "case-x", 7], "not-a-cursor"],
        "/v1/tasks?sort=priority": [[True, "2027-01-01", "case-x", "key"], [{"p": 1}, *objects], objects],
        "/v1/cases": [[{"a": 1}], [1], [None], "bm90LW91cnM"],
        "/v1/audit": [["1"], [True], [{"id": 1}]],
        "/v1/intake/held": [["1"], [1.5]],
    }
    auditor, admin = bearer("ada", "auditor"), bearer("root", "admin")
    for path, cursors in forged.items():
        headers = auditor if "audit" in path else admin if "intake" in path else CAROLINE
        for cursor in cursors:
            value = cursor if isinstance(cursor, str) else _cursor(cursor)
            response = await api.get(path, params={"cursor": value}, headers=headers)
            assert is_problem(response, 422)["type"] == "urn:reentry:problem:invalid-cursor", (path, cursor)
    # The cursor the list gave out still works.
    first = (await api.get("/v1/tasks", params={"limit": 1})).json()
    assert (await api.get("/v1/tasks", params={"limit": 1, "cursor": first["next_cursor"]})).status_code == 200


async def test_timeline_and_dashboard(api):
    case_id = await start(api, municipality="0794")
    await api.post(
        f"/v1/cases/{case_id}/tasks/screening/complete",
        json={"outcome": {"kind": "screening", "conditions": SCREENING}},
        headers=CAROLINE,
    )
    await api.post(f"/v1/cases/{case_id}/events", json={"type": "declined"}, headers=CAROLINE)
    timeline = (await api.get(f"/v1/cases/{case_id}/timeline")).json()["entries"]
    assert [e["seq"] for e in timeline] == list(range(len(timeline)))
    assert ("caroline", "task_completed", "screening") in [(e["actor"], e["action"], e["task_key"]) for e in timeline]
    assert timeline[-1]["action"] == "case_closed"
    is_problem(await api.get("/v1/cases/case-DJI-NOPE/timeline"), 404)

    other = await start(api, municipality="0794")
    dashboard = (await api.get("/v1/dashboard", params={"municipality": "0794"})).json()
    assert dashboard["cases_per_phase"] == {"closed": 1, "notified": 1}
    assert dashboard["screening"] == {}, "closed cases do not count in the screening shares"
    await api.post(
        f"/v1/cases/{other}/tasks/screening/complete",
        json={"outcome": {"kind": "screening", "conditions": SCREENING}},
        headers=CAROLINE,
    )
    dashboard = (await api.get("/v1/dashboard", params={"municipality": "0794"})).json()
    assert dashboard["screening"]["id_document"] == {"needs_action": 1.0}
    assert dashboard["released"]["cases"] == 0


async def test_released_with_conditions_in_order(api):
    case_id = await start(api, municipality="0758", expected_release=str(local_date_now() + timedelta(days=30)))
    in_order = {c: "in_order" for c in SCREENING} | {"income": "needs_action"}
    base = f"/v1/cases/{case_id}/tasks"
    await api.post(
        f"{base}/screening/complete", json={"outcome": {"kind": "screening", "conditions": in_order}}, headers=CAROLINE
    )
    today = str(local_date_now())
    await api.post(
        f"{base}/benefit_application/complete",
        json={"outcome": {"kind": "benefit_application", "submitted_on": today}},
        headers=CAROLINE,
    )
    decision = {"outcome": {"kind": "benefit_decision", "decision": "granted", "decided_on": today}}
    assert (await api.post(f"{base}/benefit_decision/complete", json=decision, headers=CAROLINE)).status_code == 200
    await api.post(f"/v1/cases/{case_id}/events", json={"type": "released", "released_on": today}, headers=CAROLINE)
    released = (await api.get("/v1/dashboard", params={"municipality": "0758"})).json()["released"]
    assert released["cases"] == 1
    assert released["with_id_income_and_housing_in_order"] == 1.0
    assert released["median_days_benefit_application_to_decision"] == 0


async def test_the_dashboard_counts_up_to_today_in_the_netherlands(app, api, engine):
    # 01:30 on 2 July in Amsterdam (summer time, UTC+2) is still 1 July in UTC.
    app.dependency_overrides[now] = lambda: datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
    for number, released_on in enumerate((date(2026, 7, 1), date(2026, 7, 2), date(2026, 7, 3))):
        case = CaseProjection(
            case_id=f"case-DJI-AMS-{number}",
            revision=3,
            municipality="0363",
            phase=Phase.RELEASED,
            prison="PI-AMSTERDAM",
            detention_start=date(2026, 3, 2),
            actual_release=released_on,
            policy_version="nl-default-2026.1",
            notified_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
        )
        write_projection(engine, case)

    released = (await api.get("/v1/dashboard", params={"municipality": "0363"})).json()["released"]
    assert released["to"] == "2026-07-02", "today is the Dutch date, not UTC's"
    assert released["cases"] == 2, "released yesterday and today count; tomorrow not yet"
    asked = await api.get("/v1/dashboard", params={"municipality": "0363", "released_to": "2026-07-01"})
    assert asked.json()["released"]["cases"] == 1, "a period asked for is the one answered"


async def test_rebuild_after_the_tables_are_lost(api, dev_env, engine, database_url, api_task_queue):
    for m in ("0772", "0855"):
        case_id = await start(api, municipality=m)
        await api.post(f"/v1/cases/{case_id}/tasks/contact_prison/claim", headers=CAROLINE)
    before_tasks = await all_pages(api, "/v1/tasks", {"limit": 200})
    before_cases = await all_pages(api, "/v1/cases", {"limit": 200})

    SQLModel.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE alembic_version")
    upgrade(database_url)
    assert (await api.get("/v1/tasks")).json()["items"] == []

    # Visibility of the dev server is eventually consistent: rebuild until all are seen.
    this_test = f"{OPEN_CASES} AND TaskQueue = '{api_task_queue}'"
    for _ in range(50):
        await rebuild_projection(dev_env.client, engine, query=this_test)
        if len(await all_pages(api, "/v1/cases", {"limit": 200})) >= len(before_cases):
            break
    after_cases = await all_pages(api, "/v1/cases", {"limit": 200})
    mine = {c["case_id"] for c in before_cases}
    assert [c for c in after_cases if c["case_id"] in mine] == before_cases
    after_tasks = await all_pages(api, "/v1/tasks", {"limit": 200})
    assert [t for t in after_tasks if t["case_id"] in mine] == before_tasks

"""The mayor's track (BIJ) through the real app against a real Temporal dev server: the
contract of its endpoints, its scoping by municipality, bad input, and its audit rows.
(Who may call what is in the matrix of tests/api/test_security.py; the courses of a
notice under time skipping are in tests/workflows/test_mayoral.py.)"""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
import yaml
from fastapi import FastAPI
from sqlalchemy import Engine, select
from sqlmodel import Session
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from core.settings import Settings
from domain.policy import DEFAULT_POLICY_PATH
from store.tables import MayoralNoticeRow
from tests.api.test_cases import is_problem, local_date_now
from tests.api.test_security import TILBURG, bij_body, serious, start
from tests.helpers import PRISON, STAND_INS, TRUST_TEST_KEY, bearer, next_bsn
from worker.temporal import build_worker

EINDHOVEN = "0772"
MAYOR = bearer("oov-ilse", "mayor_office", municipalities=(TILBURG,))
NOTICES = "/v1/mayoral-notices"


async def receive(api: httpx.AsyncClient, **changes) -> str:
    response = await api.post("/v1/notifications/mayoral-notice", json=bij_body("", **changes), headers=PRISON)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def test_a_notice_is_received_once_and_read_without_its_bsn(api):
    body = bij_body("")
    first = await api.post("/v1/notifications/mayoral-notice", json=body, headers=PRISON)
    assert first.status_code == 201, first.text
    accepted = first.json()
    assert accepted == {"id": f"bij-{body['notice_id']}", "notice_id": body["notice_id"], "created": True}
    assert first.headers["location"] == f"{NOTICES}/{accepted['id']}"
    repeat = await api.post("/v1/notifications/mayoral-notice", json=body, headers=PRISON)
    assert (repeat.status_code, repeat.json()["id"], repeat.json()["created"]) == (200, accepted["id"], False)
    other = {"bsn": next_bsn(), "given_names": "Ander", "surname": "Mens", "birth_date": "1980-05-06"}
    mixed_up = await api.post("/v1/notifications/mayoral-notice", json={**body, "person": other}, headers=PRISON)
    assert is_problem(mixed_up, 409)["type"].endswith("NoticeConflict")

    view = (await api.get(f"{NOTICES}/{accepted['id']}", headers=MAYOR)).json()
    assert body["person"]["bsn"] not in json.dumps(view)
    assert view["person"] == {k: body["person"][k] for k in ("given_names", "surname", "birth_date")}
    assert (view["kind"], view["status"], view["starts_on"], view["offence_category"]) == (
        "return",
        "open",
        body["starts_on"],
        "violent",
    )
    [register] = [t for t in view["tasks"] if t["key"] == "register_notice"]
    assert register["team"] == "openbare-orde" and "BIJ-dossier" in register["guidance"]
    actions = [entry["action"] for entry in view["timeline"]]
    assert actions.count("notice_repeated") == 1, "the repeat is recorded, not a second notice"


async def test_the_mayors_office_works_through_the_playbook(api):
    notice_id = await receive(api, unrest_expected=True)
    tasks = f"{NOTICES}/{notice_id}/tasks"
    registered = await api.post(
        f"{tasks}/register_notice/complete",
        json={"outcome": {"kind": "notice_registered", "concerns_municipality": True}},
        headers=MAYOR,
    )
    assert registered.status_code == 200, registered.text
    assert (registered.json()["status"], registered.json()["completed_by"]) == ("completed", "oov-ilse")
    again = await api.post(
        f"{tasks}/register_notice/complete",
        json={"outcome": {"kind": "notice_registered", "concerns_municipality": True}},
        headers=MAYOR,
    )
    assert is_problem(again, 409)["type"] == "urn:reentry:problem:TaskNotOpen"

    claimed = await api.post(f"{tasks}/gather_information/claim", headers=MAYOR)
    assert claimed.json()["assignee"] == "oov-ilse", claimed.text
    assigned = await api.post(f"{tasks}/assess_risk/assign", json={"assignee": "oov-jan"}, headers=MAYOR)
    assert assigned.json()["assignee"] == "oov-jan", assigned.text
    early = await api.post(
        f"{tasks}/assess_risk/complete",
        json={"outcome": {"kind": "assessment", "decision": "monitor", "reasons": "wijkagent houdt zicht"}},
        headers=bearer("oov-jan", "mayor_office", municipalities=(TILBURG,)),
    )
    assert is_problem(early, 409)["type"] == "urn:reentry:problem:PrerequisitesOpen"
    wrong = await api.post(f"{tasks}/gather_information/complete", json={"outcome": {"kind": "contact"}}, headers=MAYOR)
    is_problem(wrong, 422)

    # The date moves: the steps that count back from it move with it.
    before = {t["key"]: t["due"] for t in (await api.get(f"{NOTICES}/{notice_id}", headers=MAYOR)).json()["tasks"]}
    later = local_date_now() + timedelta(weeks=8)
    moved = await api.post(
        f"{NOTICES}/{notice_id}/events", json={"type": "date_changed", "starts_on": str(later)}, headers=PRISON
    )
    assert moved.status_code == 200, moved.text
    view = (await api.get(f"{NOTICES}/{notice_id}", headers=MAYOR)).json()
    after = {t["key"]: t["due"] for t in view["tasks"]}
    assert view["starts_on"] == str(later)
    assert after["assess_risk"] > before["assess_risk"] and after["register_notice"] == before["register_notice"]
    assert "prepare_communication" in after, "unrest is expected: communication is prepared"
    cancelled = await api.post(f"{NOTICES}/{notice_id}/events", json={"type": "leave_cancelled"}, headers=MAYOR)
    assert "only a leave" in is_problem(cancelled, 409)["detail"]

    # In the read model as soon as the answer is there.
    listed = (await api.get(NOTICES, headers=MAYOR)).json()["items"]
    [item] = [n for n in listed if n["workflow_id"] == notice_id]
    # Information, the assessment and the communication; measures only once decided on.
    assert (item["starts_on"], item["unrest_expected"], item["open_tasks"]) == (str(later), True, 3)


async def test_the_list_filters_and_pages_and_the_overview_counts(api):
    today = local_date_now()
    soon = await receive(api, starts_in=timedelta(weeks=2))
    leave = await receive(api, kind="leave", starts_in=timedelta(days=4))
    later = await receive(api, starts_in=timedelta(weeks=9), unrest_expected=True)
    assessed = await receive(api, starts_in=timedelta(weeks=10))
    await api.post(
        f"{NOTICES}/{assessed}/tasks/register_notice/complete",
        json={"outcome": {"kind": "notice_registered", "concerns_municipality": True}},
        headers=MAYOR,
    )
    information = {"kind": "information", "probation_consulted": True, "police_consulted": True}
    await api.post(
        f"{NOTICES}/{assessed}/tasks/gather_information/complete",
        json={"outcome": {**information, "victims_nearby": "no"}},
        headers=MAYOR,
    )
    decided = await api.post(
        f"{NOTICES}/{assessed}/tasks/assess_risk/complete",
        json={"outcome": {"kind": "assessment", "decision": "measures", "reasons": "slachtoffer in de wijk"}},
        headers=MAYOR,
    )
    assert decided.status_code == 200, decided.text
    ban = {"type": "area_ban", "starts_on": str(today + timedelta(weeks=10)), "area": "Centrum"}
    measures = await api.post(
        f"{NOTICES}/{assessed}/tasks/decide_measures/complete",
        json={"outcome": {"kind": "measures", "measures": [ban]}},
        headers=MAYOR,
    )
    assert measures.status_code == 200, measures.text
    elsewhere = await receive(api, municipality=EINDHOVEN)

    def ids(response: httpx.Response) -> list[str]:
        assert response.status_code == 200, response.text
        return [n["workflow_id"] for n in response.json()["items"]]

    assert ids(await api.get(NOTICES, headers=MAYOR)) == [leave, soon, later, assessed], "soonest first"
    assert ids(await api.get(NOTICES, params={"kind": "leave"}, headers=MAYOR)) == [leave]
    assert ids(await api.get(NOTICES, params={"unrest_expected": True}, headers=MAYOR)) == [later]
    window = {"date_from": str(today + timedelta(weeks=1)), "date_to": str(today + timedelta(weeks=9))}
    assert ids(await api.get(NOTICES, params=window, headers=MAYOR)) == [soon, later]
    assert ids(await api.get(NOTICES, params={"municipality": EINDHOVEN}, headers=MAYOR)) == []
    everywhere = bearer("oov-regio", "mayor_office", municipalities=("*",))
    assert elsewhere in ids(await api.get(NOTICES, headers=everywhere))

    first = await api.get(NOTICES, params={"limit": 3}, headers=MAYOR)
    second = await api.get(NOTICES, params={"limit": 3, "cursor": first.json()["next_cursor"]}, headers=MAYOR)
    assert ids(first) + ids(second) == [leave, soon, later, assessed] and second.json()["next_cursor"] is None
    assert is_problem(await api.get(NOTICES, params={"cursor": "bm90LW91cnM"}, headers=MAYOR), 422)

    overview = (await api.get(f"{NOTICES}/overview", headers=MAYOR)).json()
    assert sum(m["returns"] for m in overview["months"]) == 3
    assert sum(m["leaves"] for m in overview["months"]) == 1
    assert sum(m["assessed_before_date"] for m in overview["months"]) == 1
    assert overview["measures"] == {"area_ban": 1}
    assert overview["open_notices"] == 4
    assert [m["month"] for m in overview["months"]] == sorted(m["month"] for m in overview["months"])


async def test_a_notice_of_another_municipality_answers_as_if_it_did_not_exist(api):
    notice_id = await receive(api)
    eindhoven = bearer("oov-erik", "mayor_office", municipalities=(EINDHOVEN,))
    registered = {"outcome": {"kind": "notice_registered", "concerns_municipality": True}}
    attempts = [
        ("GET", "", None),
        ("POST", "/tasks/register_notice/complete", registered),
        ("POST", "/tasks/register_notice/claim", None),
        ("POST", "/tasks/register_notice/assign", {"team": "openbare-orde"}),
        ("POST", "/events", {"type": "returned", "returned_on": str(local_date_now())}),
    ]
    for method, suffix, body in attempts:
        theirs = await api.request(method, f"{NOTICES}/{notice_id}{suffix}", json=body, headers=eindhoven)
        absent = await api.request(method, f"{NOTICES}/bij-NOT-THERE{suffix}", json=body, headers=eindhoven)
        problem, nothing = is_problem(theirs, 404), is_problem(absent, 404)
        assert problem["type"] == nothing["type"] == "urn:reentry:problem:notice-not-found", suffix
        assert problem["detail"] == nothing["detail"].replace("bij-NOT-THERE", notice_id), suffix
    assert (await api.get(NOTICES, headers=eindhoven)).json()["items"] == []
    assert (await api.get(f"{NOTICES}/overview", headers=eindhoven)).json()["open_notices"] == 0
    view = (await api.get(f"{NOTICES}/{notice_id}", headers=MAYOR)).json()
    assert "oov-erik" not in {entry["actor"] for entry in view["timeline"]}
    assert all(t["status"] == "open" and t["assignee"] is None for t in view["tasks"])

    # The justice information service sends only for the municipalities it is granted,
    # also when it sends a notice again as if it were another municipality's.
    dji_eindhoven = bearer("dji-eindhoven", "partner_system", municipalities=(EINDHOVEN,))
    refused = await api.post("/v1/notifications/mayoral-notice", json=bij_body(""), headers=dji_eindhoven)
    is_problem(refused, 403)
    resent = {**bij_body(notice_id), "municipality": EINDHOVEN}
    problem = is_problem(await api.post("/v1/notifications/mayoral-notice", json=resent, headers=dji_eindhoven), 403)
    assert TILBURG not in problem["detail"]
    view = (await api.get(f"{NOTICES}/{notice_id}", headers=MAYOR)).json()
    assert view["municipality"] == TILBURG and "notice_repeated" not in [e["action"] for e in view["timeline"]]


async def test_bad_input_says_what_is_wrong_starts_nothing_and_never_echoes_the_bsn(api, engine: Engine):
    body = bij_body("")
    broken = {
        **body,
        "kind": "visit",
        "measure": "tbr",
        "offence_category": "property",
        "person": {**body["person"], "bsn": "123456789"},
    }
    problem = is_problem(await api.post("/v1/notifications/mayoral-notice", json=broken, headers=PRISON), 422)
    fields = {e["field"] for e in problem["errors"]}
    assert {"body.kind", "body.measure", "body.offence_category", "body.person.bsn"} <= fields, fields
    assert "123456789" not in json.dumps(problem)
    leave_without_end = {**body, "kind": "leave", "ends_on": None}
    problem = is_problem(
        await api.post("/v1/notifications/mayoral-notice", json=leave_without_end, headers=PRISON), 422
    )
    assert "ends_on" in problem["detail"] and body["person"]["bsn"] not in json.dumps(problem)
    with Session(engine) as session:
        assert session.execute(select(MayoralNoticeRow)).first() is None, "nothing started"

    notice_id = await receive(api)
    event = await api.post(f"{NOTICES}/{notice_id}/events", json={"type": "moved_abroad"}, headers=MAYOR)
    assert "body" in is_problem(event, 422)["errors"][0]["field"]
    is_problem(await api.get(f"{NOTICES}/case-DJI-2026-1", headers=MAYOR), 404)


async def test_every_read_and_write_of_a_notice_is_in_the_audit_log(api):
    notice_id = await receive(api)
    await api.get(f"{NOTICES}/{notice_id}", headers=MAYOR | {"X-Request-ID": "req-oov-0001"})
    await api.post(f"{NOTICES}/{notice_id}/tasks/register_notice/claim", headers=MAYOR)
    caseworker = bearer("anna", "caseworker", municipalities=(TILBURG,))
    await api.get(f"{NOTICES}/{notice_id}", headers=caseworker)
    await api.get(f"{NOTICES}/{notice_id}", headers=bearer("oov-erik", "mayor_office", municipalities=(EINDHOVEN,)))
    await api.get(NOTICES, headers=MAYOR)
    auditor = bearer("ada", "auditor", municipalities=("*",))
    entries = (await api.get("/v1/audit", params={"case_id": notice_id}, headers=auditor)).json()["items"]
    seen = [(e["user_id"], e["action"], e["outcome"], e["status"]) for e in reversed(entries)]
    assert seen == [
        ("prison_service", "mayoral_notice.receive", "allowed", 201),
        ("oov-ilse", "mayoral_notice.read", "allowed", 200),
        ("oov-ilse", "mayoral_task.claim", "allowed", 200),
        ("anna", "mayoral_notice.read", "refused", 404),
        ("oov-erik", "mayoral_notice.read", "refused", 404),
    ]
    assert entries[-2]["request_id"] == "req-oov-0001" and entries[-2]["target"].startswith("notice_id,")
    listed = (await api.get("/v1/audit", params={"action": "mayoral_notices.list"}, headers=auditor)).json()
    assert listed["items"][0]["target"] == f"municipalities={TILBURG}"
    is_problem(await api.get("/v1/audit", headers=MAYOR), 403)


@pytest.fixture
def app_with(dev_env: WorkflowEnvironment, engine: Engine, api_task_queue: str, tmp_path):
    """The app with the default policy changed by ``change(policy_dict)``."""

    def make(change) -> FastAPI:
        policy = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
        change(policy)
        path = tmp_path / "policy.yaml"
        path.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
        settings = Settings(task_queue=api_task_queue, policy=path, **TRUST_TEST_KEY)
        return create_app(settings=settings, temporal_client=dev_env.client, engine=engine)

    return make


async def _client(app: FastAPI, dev_env, engine, queue):
    worker = build_worker(dev_env.client, queue, engine, STAND_INS)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reentry.test")
    return worker, app.router.lifespan_context(app), client


async def test_an_installation_without_a_mayoral_track_refuses_notices_and_starts_nothing(
    app_with, dev_env, engine, api_task_queue
):
    app = app_with(lambda policy: policy.pop("mayoral"))
    worker, lifespan, client = await _client(app, dev_env, engine, api_task_queue)
    async with worker, lifespan, client:
        body = bij_body("")
        refused = await client.post("/v1/notifications/mayoral-notice", json=body, headers=PRISON)
        assert "no mayoral section" in is_problem(refused, 409)["detail"]
        described = dev_env.client.get_workflow_handle(f"bij-{body['notice_id']}")
        with pytest.raises(Exception, match="not found"):
            await described.describe()


async def test_casework_sees_that_a_notice_exists_only_where_the_policy_says_so(
    api, app_with, dev_env, engine, api_task_queue
):
    case_id = await start(api, **serious(municipality=TILBURG))
    detention_id = case_id.removeprefix("case-")
    notice = bij_body("", detention_id=detention_id)
    assert (await api.post("/v1/notifications/mayoral-notice", json=notice, headers=PRISON)).status_code == 201
    assert (await api.get(f"/v1/cases/{case_id}")).json()["mayoral_notice_exists"] is None, "off by default"

    app = app_with(lambda policy: policy["mayoral"].update(casework_sees_notice=True))
    worker, lifespan, client = await _client(app, dev_env, engine, f"{api_task_queue}-seen")
    async with worker, lifespan, client:
        view = (await client.get(f"/v1/cases/{case_id}", headers=bearer("anna", "caseworker"))).json()
        other = await start(client, municipality=TILBURG)
        unknown = (await client.get(f"/v1/cases/{other}", headers=bearer("anna", "caseworker"))).json()
    assert (view["mayoral_notice_exists"], unknown["mayoral_notice_exists"]) == (True, False)
    assert notice["notice_id"] not in json.dumps(view) and "mayoral_task" not in json.dumps(view)

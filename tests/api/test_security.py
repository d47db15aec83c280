"""Who may see and do what: tokens, the role x endpoint matrix, municipalities, purposes
and the audit log, through the real app against a real Temporal dev server."""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.security import HIDDEN as HIDDEN_ROLES
from api.security import PERMISSIONS
from api.tokens import NoTrustedKeys
from core.settings import Settings
from tests.api.test_cases import is_problem, local_date_now, notice_body
from tests.helpers import CAROLINE, PRISON, STAND_INS, TRUST_TEST_KEY, bearer, bij_notice
from worker.temporal import build_worker

SECURITY_DOC = Path(__file__).parents[2] / "docs" / "security.md"
TILBURG, EINDHOVEN = "0855", "0772"


async def start(api: httpx.AsyncClient, **changes) -> str:
    response = await api.post("/v1/notifications/detention-started", json=notice_body(**changes), headers=PRISON)
    assert response.status_code == 201, response.text
    return response.json()["case_id"]


def serious(**changes) -> dict:
    """A final conviction for a violent offence: the mayor's office is told of this case."""
    return {"offence_category": "violent", "conviction_final": True, **changes}


# ---------------------------------------------------------------------------
# Authentication


async def test_without_a_valid_token_nothing_is_shown(api):
    case_id = await start(api)
    path = f"/v1/cases/{case_id}"
    now = datetime.now(UTC)
    refused = {
        "no token": {"Authorization": ""},
        "not bearer": {"Authorization": "Basic Y2Fyb2xpbmU6Z2VoZWlt"},
        "garbage": {"Authorization": "Bearer not.a.token"},
        "expired": bearer("caroline", "caseworker", now=now - timedelta(hours=9)),
        "wrong audience": _signed_by_test_key({"aud": "another-app"}),
        "wrong issuer": _signed_by_test_key({"iss": "https://idp.example.org"}),
        "no known role": bearer("caroline", municipalities=("0855",)),
        "another key": _signed_by_another_key(),
    }
    for why, headers in refused.items():
        response = await api.get(path, headers=headers)
        problem = is_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer", why
        assert "Jansen" not in response.text and "tasks" not in problem, why
    assert "expired" in (await api.get(path, headers=refused["expired"])).json()["detail"]
    assert "audience" in (await api.get(path, headers=refused["wrong audience"])).json()["detail"]
    # Probes stay open: an orchestrator has no token.
    assert (await api.get("/healthz", headers={"Authorization": ""})).status_code == 200


async def test_a_token_whose_municipalities_are_malformed_is_refused_and_told_why(api):
    case_id = await start(api, municipality=TILBURG)
    malformed = {
        "a number": (855, "a list of municipality codes"),
        "an object": ({"tilburg": TILBURG}, "a list of municipality codes"),
        "numbers": ([855, 772], "a list of municipality codes"),
        "a name": (["Tilburg"], "4-digit CBS municipality codes"),
        "a code with its prefix": (f"GM{TILBURG}", "4-digit CBS municipality codes"),
        "one wrong among the right": ([TILBURG, "07720"], "4-digit CBS municipality codes"),
    }
    for why, (claim, wrong) in malformed.items():
        response = await api.get(f"/v1/cases/{case_id}", headers=_signed_by_test_key({"municipalities": claim}))
        problem = is_problem(response, 401)
        told = f"{problem['title']} {problem['detail']}"
        assert "'municipalities' claim" in told and wrong in told, why
        assert response.headers["www-authenticate"] == "Bearer", why
        for held in ("855", "772", "tilburg", "Tilburg", "GM"):
            assert held not in told, f"{why}: the problem echoes the claim"
    # Not a claim read in part: the same token with the right codes alone is let in.
    let_in = await api.get(f"/v1/cases/{case_id}", headers=_signed_by_test_key({"municipalities": [TILBURG]}))
    assert let_in.status_code == 200, let_in.text


def _signed_by_test_key(changes: dict) -> dict[str, str]:
    token = bearer("caroline", "caseworker")["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, options={"verify_signature": False}) | changes
    from tests.helpers import _KEY

    return {"Authorization": f"Bearer {jwt.encode(claims, _KEY, algorithm='ES256')}"}


def _signed_by_another_key() -> dict[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    claims = {"iss": "reentry-local", "aud": "reentry", "sub": "mallory", "roles": ["coordinator"]}
    claims |= {"municipalities": ["*"], "exp": int((now + timedelta(hours=1)).timestamp())}
    return {"Authorization": f"Bearer {jwt.encode(claims, key, algorithm='RS256')}"}


@pytest.fixture(scope="module")
def identity_provider() -> Iterator[tuple[str, rsa.RSAPrivateKey]]:
    """An identity provider's JWKS endpoint over real HTTP, with the key it signs with."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())) | {"kid": "idp-2026", "use": "sig"}
    body = json.dumps({"keys": [jwk]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/realms/gemeente/protocol/openid-connect/certs", key
    server.shutdown()


async def test_tokens_of_the_identity_provider_are_verified_against_its_jwks(
    dev_env: WorkflowEnvironment, engine: Engine, identity_provider
):
    jwks_url, key = identity_provider
    issuer = "https://login.gemeente.example/realms/gemeente"
    settings = Settings(
        task_queue=f"api-{uuid.uuid4()}",
        auth_jwks_url=jwks_url,
        auth_issuer=issuer,
        auth_audience="reentry-api",
        auth_roles_claim="realm_access.roles",
        auth_user_claim="preferred_username",
        **TRUST_TEST_KEY,
    )
    now = datetime.now(UTC)
    claims = {
        "iss": issuer,
        "aud": ["reentry-api", "account"],
        "sub": "f3a1c2e4-0000-4000-8000-000000000001",
        "preferred_username": "anna",
        "realm_access": {"roles": ["coordinator", "offline_access"]},
        "municipalities": "0855 0772",
        "exp": int((now + timedelta(minutes=5)).timestamp()),
    }
    keycloak = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "idp-2026"})
    app = create_app(settings=settings, temporal_client=dev_env.client, engine=engine)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reentry.test") as api,
    ):
        answered = await api.get("/v1/cases", headers={"Authorization": f"Bearer {keycloak}"})
        assert answered.status_code == 200, answered.text
        assert answered.json()["items"] == []
        # With an identity provider configured, the development key is not trusted.
        is_problem(await api.get("/v1/cases", headers=CAROLINE), 401)
        audited = app.state.engine
    from sqlmodel import Session

    from store.audit import audit_page

    with Session(audited) as session:
        rows, _ = audit_page(session, user_id="anna")
    assert [(r.action, r.roles, r.target) for r in rows] == [("cases.list", "coordinator", "municipalities=0772,0855")]


def test_an_api_with_nothing_to_verify_tokens_with_does_not_start(tmp_path):
    with pytest.raises(NoTrustedKeys, match="REENTRY_AUTH_JWKS_URL"):
        create_app(settings=Settings(data_dir=tmp_path))


# ---------------------------------------------------------------------------
# The role x endpoint matrix

ROLES = ["caseworker", "coordinator", "mayor_office", "partner_system", "auditor", "admin"]
CASEWORK, MAYOR = {"caseworker", "coordinator"}, {"mayor_office"}
# Written out by hand, not derived from the code: the test fails when either changes.
ALLOWED = {
    "POST /v1/notifications/detention-started": {"partner_system"},
    "GET /v1/cases/{id}": CASEWORK,
    "GET /v1/cases/residents?case_id={id}": CASEWORK,
    "POST /v1/cases/{id}/tasks/{key}/complete": CASEWORK,
    "POST /v1/cases/{id}/tasks/{key}/claim": CASEWORK,
    "POST /v1/cases/{id}/tasks/{key}/assign": {"coordinator"},
    "POST /v1/cases/{id}/events": CASEWORK | {"partner_system"},
    "GET /v1/tasks": CASEWORK,
    "GET /v1/cases": CASEWORK,
    "GET /v1/cases/{id}/timeline": CASEWORK,
    "GET /v1/dashboard": CASEWORK,
    "GET /v1/audit": {"auditor"},
    "GET /v1/intake/held": {"admin"},
    "POST /codec/encode": {"admin"},
    "POST /codec/decode": {"admin"},
    "POST /v1/notifications/mayoral-notice": {"partner_system"},
    "GET /v1/mayoral-notices": MAYOR,
    "GET /v1/mayoral-notices/overview": MAYOR,
    "GET /v1/mayoral-notices/{notice}": MAYOR,
    "POST /v1/mayoral-notices/{notice}/tasks/{key}/complete": MAYOR,
    "POST /v1/mayoral-notices/{notice}/tasks/{key}/claim": MAYOR,
    "POST /v1/mayoral-notices/{notice}/tasks/{key}/assign": MAYOR,
    "POST /v1/mayoral-notices/{notice}/events": MAYOR | {"partner_system"},
}
ENDPOINTS = list(ALLOWED)
# Outside the purpose of every role the caller has: as if it were not there (404), not a
# 403. For casework the mayor's track does not exist; for the mayor's office, casework.
HIDDEN = {endpoint: CASEWORK for endpoint in ENDPOINTS if "mayoral" in endpoint} | {
    endpoint: MAYOR
    for endpoint in ENDPOINTS
    if endpoint.split(" ")[1].startswith(("/v1/cases", "/v1/tasks", "/v1/dashboard"))
}


def _request(endpoint: str, case_id: str, notice_id: str) -> tuple[str, str, dict | None]:
    method, path = endpoint.split(" ")
    path = path.replace("{id}", case_id).replace("{notice}", notice_id)
    today = local_date_now()
    mayoral = "mayoral" in path
    body = {
        "/v1/notifications/detention-started": notice_body(**serious(municipality=TILBURG)),
        "/v1/notifications/mayoral-notice": bij_body(notice_id),
        "complete": (
            {"outcome": {"kind": "notice_registered", "concerns_municipality": True}}
            if mayoral
            else {"outcome": {"kind": "contact", "contacted_on": str(today)}}
        ),
        "claim": None,
        "assign": {"team": "regio-team"},
        "events": (
            {"type": "date_changed", "starts_on": str(today + timedelta(weeks=7))}
            if mayoral
            else {"type": "expected_release_changed", "expected_release": str(today + timedelta(weeks=22))}
        ),
        "encode": {"payloads": []},
        "decode": {"payloads": []},
    }
    if "{key}" in path:
        claimed = path.endswith(("claim", "assign"))
        key = ("gather_information" if claimed else "register_notice") if mayoral else None
        path = path.replace("{key}", key or ("screening" if claimed else "contact_prison"))
    key = path if path in body else path.rsplit("/", 1)[-1]
    return method, path, body.get(key) if method == "POST" else None


def bij_body(workflow_id: str, **changes) -> dict:
    """The justice information service's notice of a return to Tilburg, as JSON."""
    notice = bij_notice(local_date_now(), **{"municipality": TILBURG, **changes})
    if workflow_id:
        notice = notice.model_copy(update={"notice_id": workflow_id.removeprefix("bij-")})
    return notice.model_dump(mode="json")


@pytest.fixture(scope="module")
async def matrix(dev_env: WorkflowEnvironment, sqlite_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, str, str]]:
    """One app, one serious offender's case and one mayoral notice in Tilburg that every
    cell acts on."""
    from store.db import make_engine

    engine = make_engine(sqlite_url)
    queue = f"matrix-{uuid.uuid4()}"
    app = create_app(
        settings=Settings(task_queue=queue, **TRUST_TEST_KEY), temporal_client=dev_env.client, engine=engine
    )
    async with (
        build_worker(dev_env.client, queue, engine, STAND_INS),
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reentry.test") as api,
    ):
        notice = await api.post("/v1/notifications/mayoral-notice", json=bij_body(""), headers=PRISON)
        assert notice.status_code == 201, notice.text
        yield api, await start(api, **serious(municipality=TILBURG)), notice.json()["id"]
    engine.dispose()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_role_x_endpoint(matrix, role: str, endpoint: str):
    api, case_id, notice_id = matrix
    method, path, body = _request(endpoint, case_id, notice_id)
    response = await api.request(method, path, json=body, headers=bearer(f"{role}-1", role, municipalities=(TILBURG,)))
    if role in ALLOWED[endpoint]:
        # Let through: the answer is the endpoint's own (a task done twice is a 409).
        assert response.status_code in (200, 201, 409), response.text
    elif role in HIDDEN.get(endpoint, ()):
        assert is_problem(response, 404)["type"] == "urn:reentry:problem:not-found"
    else:
        assert is_problem(response, 403)["type"] == "urn:reentry:problem:forbidden"


def test_the_security_page_shows_the_matrix_the_code_enforces():
    lines = SECURITY_DOC.read_text(encoding="utf-8").splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("| action | endpoint |"))
    table = list(itertools.takewhile(lambda line: line.startswith("|"), lines[first:]))
    roles = [cell.strip() for cell in table[0].strip("|").split("|")][2:]
    documented, hidden = {}, {}
    for row in table[2:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        marks = dict(zip(roles, cells[2:], strict=True))
        documented[cells[0].strip("`")] = {role for role, mark in marks.items() if mark == "yes"}
        hidden[cells[0].strip("`")] = {role for role, mark in marks.items() if mark == "404"}
    assert documented == {action.value: {role.value for role in allowed} for action, allowed in PERMISSIONS.items()}
    assert {action: roles for action, roles in hidden.items() if roles} == {
        action.value: {role.value for role in roles} for action, roles in HIDDEN_ROLES.items()
    }


# ---------------------------------------------------------------------------
# Municipalities: another municipality's case does not exist for you


async def test_a_case_of_another_municipality_answers_as_if_it_did_not_exist(api):
    case_id = await start(api, municipality=TILBURG)
    eindhoven = bearer("erik", "caseworker", "coordinator", municipalities=(EINDHOVEN,))
    today = str(local_date_now())
    attempts = [
        ("GET", "", None),
        ("GET", "/timeline", None),
        ("POST", "/tasks/contact_prison/complete", {"outcome": {"kind": "contact", "contacted_on": today}}),
        ("POST", "/tasks/contact_prison/claim", None),
        ("POST", "/tasks/contact_prison/assign", {"team": "regio-team"}),
        ("POST", "/events", {"type": "declined"}),
    ]
    for method, suffix, body in attempts:
        theirs = await api.request(method, f"/v1/cases/{case_id}{suffix}", json=body, headers=eindhoven)
        absent = await api.request(method, f"/v1/cases/case-DJI-NOT-THERE{suffix}", json=body, headers=eindhoven)
        problem, nothing = is_problem(theirs, 404), is_problem(absent, 404)
        assert problem["type"] == nothing["type"] and problem["title"] == nothing["title"], suffix
        assert problem["detail"] == nothing["detail"].replace("case-DJI-NOT-THERE", case_id), suffix

    # Nothing of it in lists or counts either, even when asked for by name.
    for params in ({}, {"municipality": TILBURG}):
        assert (await api.get("/v1/cases", params=params, headers=eindhoven)).json()["items"] == []
        assert (await api.get("/v1/tasks", params=params, headers=eindhoven)).json()["items"] == []
        counts = (await api.get("/v1/dashboard", params=params, headers=eindhoven)).json()
        assert sum(counts["cases_per_phase"].values()) == 0, counts
    assert sum((await api.get("/v1/dashboard", headers=CAROLINE)).json()["cases_per_phase"].values()) == 1

    # The case was not touched.
    case = (await api.get(f"/v1/cases/{case_id}")).json()
    assert "erik" not in {h["actor"] for h in case["history"]}
    assert all(t["status"] == "open" and t["assignee"] is None for t in case["tasks"] if t["key"] == "contact_prison")

    # A partner system reports only on the municipalities it is granted.
    elsewhere = bearer("dji-eindhoven", "partner_system", municipalities=(EINDHOVEN,))
    body = notice_body(municipality=TILBURG)
    is_problem(await api.post("/v1/notifications/detention-started", json=body, headers=elsewhere), 403)


async def test_a_notice_sent_again_reaches_no_case_of_a_municipality_not_granted(api):
    """A prison-service token of Eindhoven resends the notice of a Tilburg case as if it were
    Eindhoven's: refused, without naming where the case is, and nothing written into it."""
    body = notice_body(municipality=TILBURG)
    first = await api.post("/v1/notifications/detention-started", json=body, headers=PRISON)
    case_id = first.json()["case_id"]
    elsewhere = bearer("dji-eindhoven", "partner_system", municipalities=(EINDHOVEN,))
    resent = await api.post(
        "/v1/notifications/detention-started", json={**body, "municipality": EINDHOVEN}, headers=elsewhere
    )
    problem = is_problem(resent, 403)
    assert TILBURG not in problem["detail"] and case_id not in json.dumps(problem)
    case = (await api.get(f"/v1/cases/{case_id}")).json()
    assert case["municipality"] == TILBURG
    assert "dji-eindhoven" not in {h["actor"] for h in case["history"]}
    assert [h["action"] for h in case["history"]].count("notice_repeated") == 0
    auditor = bearer("ada", "auditor")
    rows = (await api.get("/v1/audit", params={"user": "dji-eindhoven"}, headers=auditor)).json()["items"]
    assert [(r["case_id"], r["outcome"], r["status"]) for r in rows] == [(case_id, "refused", 403)]


async def test_a_case_handed_to_another_municipality_is_theirs_alone(api):
    """Scenario 7: after the hand-over nothing stays readable for Tilburg's caseworkers."""
    case_id = await start(api, municipality=TILBURG)
    tilburg = bearer("tom", "caseworker", municipalities=(TILBURG,))
    breda = bearer("bram", "caseworker", municipalities=("0758",))
    await api.post(f"/v1/cases/{case_id}/events", json={"type": "moved", "municipality": "0758"}, headers=tilburg)
    is_problem(await api.get(f"/v1/cases/{case_id}", headers=breda), 404)
    done = await api.post(
        f"/v1/cases/{case_id}/tasks/transfer/complete",
        json={"outcome": {"kind": "note", "note": "warm overgedragen"}},
        headers=tilburg,
    )
    assert done.status_code == 200, done.text
    is_problem(await api.get(f"/v1/cases/{case_id}", headers=tilburg), 404)
    is_problem(await api.get(f"/v1/cases/{case_id}/timeline", headers=tilburg), 404)
    assert (await api.get("/v1/cases", headers=tilburg)).json()["items"] == []
    handed = (await api.get(f"/v1/cases/{case_id}", headers=breda)).json()
    assert handed["closed_reason"] == "moved" and handed["moved_to"] == "0758"


# ---------------------------------------------------------------------------
# Purposes: each role sees what its purpose needs


async def test_the_mayors_office_reads_no_case_at_all(api):
    """Its purpose is public order, not care: a serious offender's case, its lists and its
    counts do not exist for the mayor's office (404), not even in part."""
    case_id = await start(api, **serious(municipality=TILBURG))
    mayor = bearer("burgemeester-tilburg", "mayor_office", municipalities=(TILBURG,))
    for path in (f"/v1/cases/{case_id}", f"/v1/cases/{case_id}/timeline", "/v1/cases", "/v1/tasks", "/v1/dashboard"):
        problem = is_problem(await api.get(path, headers=mayor), 404)
        assert problem["type"] == "urn:reentry:problem:not-found" and "Jansen" not in json.dumps(problem), path
    assert (await api.get(f"/v1/cases/{case_id}")).json()["person"]["surname"] == "Jansen", "casework reads it"


async def test_a_partner_system_reports_what_the_prison_knows_and_no_more(api):
    case_id = await start(api)
    events = f"/v1/cases/{case_id}/events"
    later = str(local_date_now() + timedelta(weeks=25))
    moved = await api.post(events, json={"type": "expected_release_changed", "expected_release": later}, headers=PRISON)
    assert moved.status_code == 200, moved.text
    screening = {"type": "screening_recorded", "conditions": {"care": "needs_action"}}
    assert "caseworker" in is_problem(await api.post(events, json=screening, headers=PRISON), 403)["detail"]
    is_problem(await api.get(f"/v1/cases/{case_id}", headers=PRISON), 403)
    history = (await api.get(f"/v1/cases/{case_id}")).json()["history"]
    assert ("prison_service", "expected_release_changed") in [(h["actor"], h["action"]) for h in history]


# ---------------------------------------------------------------------------
# The audit log


async def test_every_read_and_write_of_case_data_is_in_the_audit_log(api):
    case_id = await start(api, municipality=TILBURG)
    anna = bearer("anna", "caseworker", municipalities=(TILBURG,))
    erik = bearer("erik", "caseworker", municipalities=(EINDHOVEN,))
    auditor = bearer("ada", "auditor", municipalities=("*",))
    today = str(local_date_now())

    read = await api.get(f"/v1/cases/{case_id}", headers=anna | {"X-Request-ID": "req-anna-0001"})
    assert read.headers["x-request-id"] == "req-anna-0001"
    complete = {"outcome": {"kind": "contact", "contacted_on": today}}
    await api.post(f"/v1/cases/{case_id}/tasks/contact_prison/complete", json=complete, headers=anna)
    await api.get(f"/v1/cases/{case_id}", headers=erik)
    await api.get(f"/v1/cases/{case_id}", headers={"Authorization": "Bearer forged"})
    is_problem(await api.get("/v1/audit", headers=anna), 403)

    entries = (await api.get("/v1/audit", params={"case_id": case_id}, headers=auditor)).json()["items"]
    seen = [(e["user_id"], e["action"], e["outcome"], e["status"], e["target"]) for e in reversed(entries)]
    fields = "case_id,revision,phase,municipality,prison,person,"
    assert seen[0] == ("prison_service", "notice.receive", "allowed", 201, None)
    assert seen[1][:4] == ("anna", "case.read", "allowed", 200) and seen[1][4].startswith(fields)
    assert seen[2] == ("anna", "task.complete", "allowed", 200, "contact_prison")
    assert seen[3][:4] == ("erik", "case.read", "refused", 404)
    assert seen[4][:4] == (None, "case.read", "refused", 401)
    assert len(seen) == 5
    assert entries[-2]["request_id"] == "req-anna-0001"
    assert entries[-2]["roles"] == "caseworker"

    by_user = (await api.get("/v1/audit", params={"user": "anna"}, headers=auditor)).json()["items"]
    assert {e["action"] for e in by_user} == {"case.read", "task.complete", "audit.read"}
    refusals = (await api.get("/v1/audit", params={"outcome": "refused"}, headers=auditor)).json()["items"]
    assert {(e["user_id"], e["action"]) for e in refusals} == {
        ("erik", "case.read"),
        (None, "case.read"),
        ("anna", "audit.read"),
    }
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (await api.get("/v1/audit", params={"since": future}, headers=auditor)).json()["items"] == []
    page = (await api.get("/v1/audit", params={"limit": 2}, headers=auditor)).json()
    rest = (await api.get("/v1/audit", params={"cursor": page["next_cursor"]}, headers=auditor)).json()["items"]
    assert [e["id"] for e in page["items"] + rest] == sorted((e["id"] for e in page["items"] + rest), reverse=True)
    assert len({e["id"] for e in page["items"] + rest}) == len(page["items"] + rest)


async def test_no_api_path_changes_the_audit_log(api):
    schema = (await api.get("/openapi.json")).json()
    assert set(schema["paths"]["/v1/audit"]) == {"get"}
    auditor = bearer("ada", "auditor")
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        assert (await api.request(method, "/v1/audit", headers=auditor)).status_code == 405


# ---------------------------------------------------------------------------
# Bad input


async def test_a_body_over_the_limit_is_refused_whether_or_not_it_says_its_length(api):
    case_id = await start(api)
    path = f"/v1/cases/{case_id}/events"
    huge = {"type": "declined", "note": "x" * 70_000}
    is_problem(await api.post(path, json=huge), 413)

    async def chunks():
        for _ in range(40):
            yield b" " * 2048

    streamed = await api.post(path, content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in streamed.request.headers
    is_problem(streamed, 413)
    assert (await api.get(f"/v1/cases/{case_id}")).json()["phase"] == "notified"


async def test_dates_out_of_range_and_unknown_fields_are_refused(api):
    case_id = await start(api)
    events = f"/v1/cases/{case_id}/events"
    far = await api.post(events, json={"type": "expected_release_changed", "expected_release": "9999-01-01"})
    assert "expected_release" in is_problem(far, 422)["detail"]
    extra = await api.post(events, json={"type": "declined", "note": "nee", "bsn": "123456782"})
    assert "bsn" in is_problem(extra, 422)["detail"] and "123456782" not in extra.text
    long_note = await api.post(events, json={"type": "declined", "note": "x" * 2001})
    is_problem(long_note, 422)
    assert (await api.get(f"/v1/cases/{case_id}")).json()["phase"] == "notified"

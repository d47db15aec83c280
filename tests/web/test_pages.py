"""The web front without a browser: sign-in, sessions, CSRF, purpose limits, error pages,
security headers and the audit log, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlmodel import Session

from domain.models import local_date
from store.tables import AuditRow
from tests.api.test_cases import notice_body
from tests.api.test_shared_plan import shared
from tests.helpers import CAROLINE, PRISON, bearer, settled
from tests.web.helpers import csrf, sign_in
from web.session import clock
from worker.seed import SCREENING

TILBURG, BREDA = "0855", "0758"


async def start_case(client, **changes) -> str:
    response = await client.post("/v1/notifications/detention-started", json=notice_body(**changes), headers=PRISON)
    assert response.status_code == 201, response.text
    return response.json()["case_id"]


async def test_a_caseworker_signs_in_and_sees_the_inbox_with_the_residents_named(browser_client, engine):
    case_id = await start_case(browser_client)
    await sign_in(browser_client, "anna", "caseworker", TILBURG)
    page = await browser_client.get("/ui/")
    assert page.status_code == 200
    assert "Mijn taken" in page.text and "Jan Jansen" in page.text
    assert f"/ui/cases/{case_id}#taak-contact_prison" in page.text
    # The name is on the page, never in its title.
    assert "<title>Mijn taken · reentry</title>" in page.text
    # Every API call the page made is audited under the page's request id.
    request_id = page.headers["x-request-id"]
    with Session(engine) as session:
        rows = session.exec(select(AuditRow).where(AuditRow.request_id == request_id)).scalars().all()
    assert {(r.action, r.user_id) for r in rows} == {("tasks.list", "anna"), ("case.read", "anna")}


async def test_every_page_carries_the_security_headers_and_is_not_cached(browser_client):
    await sign_in(browser_client, "anna", "caseworker", TILBURG)
    for path in ("/ui/", "/ui/login", "/ui/dashboard", "/ui/cases/case-nothing-here"):
        response = await browser_client.get(path)
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"


async def test_the_session_cookie_is_http_only_and_same_site(browser_client):
    response = await sign_in(browser_client, "anna", "caseworker", TILBURG)
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie


async def test_a_form_without_its_csrf_token_changes_nothing(browser_client):
    case_id = await start_case(browser_client)
    await sign_in(browser_client, "anna", "caseworker", TILBURG)
    refused = await browser_client.post(f"/ui/cases/{case_id}/tasks/contact_prison/claim", data={})
    assert refused.status_code == 403
    assert "Er is niets gewijzigd" in refused.text
    forged = await browser_client.post(f"/ui/cases/{case_id}/tasks/contact_prison/claim", data={"csrf": "forged"})
    assert forged.status_code == 403
    case = (await browser_client.get(f"/v1/cases/{case_id}", headers=bearer("cas", "caseworker"))).json()
    assert next(t for t in case["tasks"] if t["key"] == "contact_prison")["assignee"] is None


async def test_a_case_out_of_reach_looks_exactly_like_one_that_does_not_exist(browser_client):
    case_id = await start_case(browser_client)
    await sign_in(browser_client, "bart", "caseworker", BREDA)
    elsewhere = await browser_client.get(f"/ui/cases/{case_id}")
    missing = await browser_client.get("/ui/cases/case-DJI-NOT-THERE")
    assert elsewhere.status_code == missing.status_code == 404
    strip = lambda text: text.replace(elsewhere.headers["x-request-id"], "").replace(  # noqa: E731
        missing.headers["x-request-id"], ""
    )
    assert strip(elsewhere.text) == strip(missing.text)
    assert "Jan" not in elsewhere.text


async def test_a_refusal_for_want_of_a_role_names_the_role_needed(browser_client):
    case_id = await start_case(browser_client)
    await sign_in(browser_client, "anna", "caseworker", TILBURG)
    page = await browser_client.get(f"/ui/cases/{case_id}")
    refused = await browser_client.post(
        f"/ui/cases/{case_id}/tasks/contact_prison/assign", data={"csrf": csrf(page.text), "assignee": "bea"}
    )
    assert refused.status_code == 403
    assert "Hiervoor is de rol coördinator nodig" in refused.text
    team = await browser_client.get("/ui/team")
    assert team.status_code == 403 and "coördinator" in team.text


async def test_an_invalid_outcome_is_shown_beside_its_form_and_a_valid_one_completes_the_task(browser_client):
    case_id = await start_case(browser_client)
    await sign_in(browser_client, "anna", "caseworker", TILBURG)
    token = csrf((await browser_client.get(f"/ui/cases/{case_id}")).text)
    path = f"/ui/cases/{case_id}/tasks/contact_prison/complete"
    refused = await browser_client.post(path, data={"csrf": token, "kind": "contact", "contacted_on": "31-02-2026"})
    assert refused.status_code == 422
    assert 'id="fout-contact_prison"' in refused.text and "Er is niets gewijzigd" in refused.text
    assert 'value="31-02-2026"' in refused.text  # what was typed stays in the form
    done = await browser_client.post(path, data={"csrf": token, "kind": "contact", "contacted_on": "2026-12-01"})
    assert done.status_code == 303 and done.headers["location"].startswith(f"/ui/cases/{case_id}?gedaan=completed")
    page = await browser_client.get(done.headers["location"])
    assert "De taak is afgerond." in page.text and 'id="taak-contact_prison"' not in page.text
    inbox = await browser_client.get("/ui/")
    assert f"/ui/cases/{case_id}#taak-contact_prison" not in inbox.text


async def test_the_mayors_office_sees_its_notices_and_nothing_of_casework(browser_client):
    case_id = await start_case(browser_client)
    await sign_in(browser_client, "mo", "mayor_office", TILBURG)
    home = await browser_client.get("/ui/")
    assert home.status_code == 303 and home.headers["location"] == "/ui/mayoral-notices"
    notices = await browser_client.get("/ui/mayoral-notices")
    assert notices.status_code == 200 and "Meldingen aan de burgemeester" in notices.text
    assert (await browser_client.get(f"/ui/cases/{case_id}")).status_code == 404
    assert (await browser_client.get("/ui/dashboard")).status_code == 404


async def test_casework_does_not_see_the_mayors_track(browser_client):
    await sign_in(browser_client, "anna", "caseworker", TILBURG)
    assert (await browser_client.get("/ui/mayoral-notices")).status_code == 404
    assert "Meldingen burgemeester" not in (await browser_client.get("/ui/")).text


async def test_a_session_idle_for_longer_than_the_timeout_is_signed_out(browser_client, site):
    from datetime import UTC, datetime

    start = datetime.now(UTC)
    site.dependency_overrides[clock] = lambda: start
    await sign_in(browser_client, "anna", "caseworker", TILBURG)
    site.dependency_overrides[clock] = lambda: start + timedelta(minutes=14)
    assert (await browser_client.get("/ui/")).status_code == 200
    # Seen at 14 minutes: 14 minutes later it is still within 15 of the last page.
    site.dependency_overrides[clock] = lambda: start + timedelta(minutes=28)
    assert (await browser_client.get("/ui/")).status_code == 200
    site.dependency_overrides[clock] = lambda: start + timedelta(minutes=44)
    gone = await browser_client.get("/ui/")
    assert gone.status_code == 303 and gone.headers["location"] == "/ui/login?verlopen=1"
    site.dependency_overrides[clock] = lambda: start + timedelta(minutes=45)
    assert (await browser_client.get("/ui/")).headers["location"] == "/ui/login"


async def test_signing_out_ends_the_session(browser_client):
    await sign_in(browser_client, "anna", "caseworker", TILBURG)
    page = await browser_client.get("/ui/")
    out = await browser_client.post("/ui/logout", data={"csrf": csrf(page.text)})
    assert out.status_code == 303 and out.headers["location"] == "/ui/login?uitgelogd=1"
    assert (await browser_client.get("/ui/")).status_code == 303


async def test_the_development_sign_in_refuses_what_a_token_could_not_carry(browser_client):
    for form in (
        {"user": "anna", "role": "mayor", "municipality": TILBURG},
        {"user": "anna", "role": "caseworker", "municipality": "Tilburg"},
        {"user": "", "role": "caseworker", "municipality": TILBURG},
    ):
        refused = await browser_client.post("/ui/login", data=form)
        assert refused.status_code == 422 and "Inloggen is niet gelukt" in refused.text
        assert "set-cookie" not in refused.headers


async def test_the_dashboard_draws_each_chart_and_gives_its_figures_as_a_table(browser_client):
    await start_case(browser_client)
    await start_case(browser_client, municipality=BREDA)
    await sign_in(browser_client, "carl", "coordinator", TILBURG)
    page = await browser_client.get("/ui/dashboard")
    assert page.status_code == 200
    assert page.text.count('<svg class="chart"') == 4 and page.text.count('aria-hidden="true"') >= 4
    # Tilburg's one case, not Breda's: the dashboard covers the municipalities granted.
    phases = page.text.split('id="kop-fasen"', 1)[1].split("</table>", 1)[0]
    assert 'utrecht-table__cell--numeric-data">1</td>' in phases
    assert 'utrecht-table__cell--numeric-data">2</td>' not in phases


def test_a_task_due_earlier_for_another_says_so_in_dutch():
    from web.labels import due_reason

    titles = {"benefit_application": "Uitkering aanvragen"}
    reason = "needed for benefit_application (due 2027-02-25)"
    assert due_reason(reason, titles) == "eerder, want nodig voor: Uitkering aanvragen (uiterlijk 25-02-2027)"
    assert due_reason(reason, {}) == "eerder, want een taak die erop wacht moet uiterlijk 25-02-2027 klaar zijn"
    assert due_reason("own deadline", titles) == "" and due_reason(None, titles) == ""


async def test_the_case_page_shows_the_plan_on_its_tasks_and_a_coordinator_marks_the_risk_seen(browser_client, dev_env):
    case_id = await start_case(browser_client)
    await settled(dev_env.client, case_id)
    today = local_date(await dev_env.get_current_time())
    for task, outcome in [
        ("contact_prison", {"kind": "contact", "contacted_on": str(today)}),
        ("screening", {"kind": "screening", "conditions": SCREENING}),
    ]:
        answer = await browser_client.post(
            f"/v1/cases/{case_id}/tasks/{task}/complete", json={"outcome": outcome}, headers=CAROLINE
        )
        assert answer.status_code == 200, answer.text
    await shared(dev_env, case_id, case_id.removeprefix("case-"), today)

    await sign_in(browser_client, "anna", "caseworker", TILBURG)
    page = (await browser_client.get(f"/ui/cases/{case_id}")).text
    assert "D&amp;R-plan van de inrichting" in page and "Concept, versie 1" in page
    housing = page[page.index('id="taak-housing"') :]
    housing = housing[: housing.index("</article>")]
    assert "D&amp;R-plan:</strong> Opvang regelen" in housing
    assert "Kans op recidive" in page and "Gebiedsverbod" in page
    assert 'name="type" value="risk_seen"' not in page, "a caseworker does not mark it seen"
    assert (await browser_client.get("/ui/team")).status_code == 403

    await sign_in(browser_client, "carla", "coordinator", TILBURG)
    team = (await browser_client.get("/ui/team")).text
    assert "Nieuwe risico-informatie (1)" in team and f"/ui/cases/{case_id}#risico" in team
    page = (await browser_client.get(f"/ui/cases/{case_id}")).text
    seen = await browser_client.post(f"/ui/cases/{case_id}/events", data={"csrf": csrf(page), "type": "risk_seen"})
    assert seen.status_code == 303, seen.text
    page = (await browser_client.get(f"/ui/cases/{case_id}")).text
    assert 'name="type" value="risk_seen"' not in page and "carla" in page
    assert "Nieuwe risico-informatie" not in (await browser_client.get("/ui/team")).text

"""What a caseworker, a coordinator and the mayor's office do in the web front, in a real
Chromium, every page checked by axe-core (0 serious or critical WCAG 2.1 AA violations)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, Page, async_playwright, expect
from sqlalchemy import Engine
from sqlmodel import SQLModel
from temporalio.testing import WorkflowEnvironment

from domain.models import local_date
from store.db import make_engine
from tests.api.test_cases import notice_body
from tests.helpers import PRISON, bij_notice
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, RESULTS, check_accessible
from tests.web.conftest import make_site, running, serving
from web.session import clock

TILBURG, BREDA = "0855", "0758"
CONDITIONS = [
    "Identiteitsbewijs",
    "Inkomen",
    "Huisvesting",
    "Werk of dagbesteding",
    "Zorg",
    "Schulden",
    "Sociaal netwerk",
]


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> AsyncIterator[Engine]:
    engine = make_engine(sqlite_url)
    with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(table.delete())
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()
    print("\naxe-core violations per page (by impact):", RESULTS.report())


@pytest.fixture
async def live(
    dev_env: WorkflowEnvironment, sqlite_engine: Engine, web_task_queue: str
) -> AsyncIterator[tuple[FastAPI, str]]:
    app = make_site(dev_env, sqlite_engine, web_task_queue)
    async with running(app, dev_env, sqlite_engine, web_task_queue), serving(app) as url:
        yield app, url


async def new_page(browser: Browser, base_url: str) -> Page:
    context = await browser.new_context(base_url=base_url, locale="nl-NL", viewport={"width": 1280, "height": 900})
    return await context.new_page()


async def sign_in(page: Page, user: str, role: str, municipalities: str) -> None:
    await page.goto("/ui/login")
    await page.get_by_label("Gebruikersnaam").fill(user)
    await page.get_by_label("Rol").select_option(role)
    await page.get_by_label("Gemeenten (CBS-codes)").fill(municipalities)
    await page.get_by_role("button", name="Inloggen").click()


async def start_case(base_url: str, **changes) -> str:
    async with httpx.AsyncClient(base_url=base_url) as api:
        response = await api.post("/v1/notifications/detention-started", json=notice_body(**changes), headers=PRISON)
        assert response.status_code == 201, response.text
        return response.json()["case_id"]


async def test_a_caseworker_works_a_case_and_a_coordinator_assigns_and_moves_the_release(live, browser):
    app, url = live
    case_id = await start_case(url)
    page = await new_page(browser, url)

    await page.goto("/ui/login")
    await check_accessible(page, "login")
    await sign_in(page, "anna", "caseworker", TILBURG)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mijn taken")
    inbox_row = page.locator(f'a[href="/ui/cases/{case_id}#taak-contact_prison"]')
    await expect(inbox_row).to_be_visible()
    await expect(page.get_by_role("cell", name="Jan Jansen").first).to_be_visible()
    await check_accessible(page, "inbox")

    await inbox_row.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Jan Jansen")
    await check_accessible(page, "case")
    task = page.locator("#taak-contact_prison")

    # An outcome without its date: the API's refusal beside the form, nothing changed.
    await task.locator("summary", has_text="Uitkomst vastleggen").click()
    await task.get_by_role("button", name="Afronden").click()
    await expect(page.locator("#fout-contact_prison")).to_contain_text("Controleer wat u hebt ingevuld")
    await expect(page.locator("#fout-contact_prison")).to_contain_text("Er is niets gewijzigd")
    await check_accessible(page, "case-refused")
    await expect(page.locator("#taak-contact_prison")).to_be_visible()

    await task.get_by_label("Datum van het contact").fill(local_date(datetime.now(UTC)).isoformat())
    await task.get_by_role("button", name="Afronden").click()
    await expect(page.get_by_role("status")).to_have_text("De taak is afgerond.")
    await expect(page.locator("#taak-contact_prison")).to_have_count(0)
    await page.get_by_role("link", name="Mijn taken").click()
    await expect(page.locator(f'a[href="/ui/cases/{case_id}#taak-contact_prison"]')).to_have_count(0)

    # Claim a task: it is the caseworker's now.
    await page.goto(f"/ui/cases/{case_id}")
    screening = page.locator("#taak-screening")
    await screening.get_by_role("button", name="Oppakken").click()
    await expect(page.get_by_role("status")).to_have_text("U hebt de taak opgepakt.")
    await expect(page.locator("#taak-screening")).to_contain_text("toegewezen aan anna")
    # The screening: every basic condition needs action; their tasks open.
    screening = page.locator("#taak-screening")
    await screening.locator("summary", has_text="Uitkomst vastleggen").click()
    for condition in CONDITIONS:
        await screening.get_by_label(condition, exact=True).select_option("needs_action")
    await screening.get_by_role("button", name="Afronden").click()
    await expect(page.get_by_role("status")).to_have_text("De taak is afgerond.")
    await page.get_by_role("button", name="Uitloggen").click()
    await expect(page.get_by_role("status")).to_have_text("U bent uitgelogd.")
    await page.goto(f"/ui/cases/{case_id}")
    await expect(page).to_have_url(f"{url}/ui/login")

    # A coordinator reassigns from the team's page and moves the release date.
    await sign_in(page, "carl", "coordinator", TILBURG)
    await page.get_by_role("link", name="Team").click()
    await check_accessible(page, "team")
    row = page.locator("tr", has=page.locator(f'a[href="/ui/cases/{case_id}#taak-reintegration_plan"]'))
    await row.get_by_label("Medewerker").fill("bea")
    await row.get_by_role("button", name="Toewijzen").click()
    await expect(page.get_by_role("status")).to_have_text("De taak is toegewezen.")
    await page.goto(f"/ui/cases/{case_id}")
    await expect(page.locator("#taak-reintegration_plan")).to_contain_text("toegewezen aan bea")

    before = await release_anchored_due(page)
    event = page.locator("#gebeurtenissen details", has=page.locator("summary", has_text="Verwachte ontslagdatum"))
    await event.locator("summary").click()
    earlier = local_date(datetime.now(UTC)) + timedelta(weeks=12)
    await event.get_by_label("Nieuwe verwachte ontslagdatum").fill(earlier.isoformat())
    await event.get_by_role("button", name="Vastleggen").click()
    await expect(page.get_by_role("status")).to_have_text("De gebeurtenis is vastgelegd.")
    await expect(page.locator("#verwacht-ontslag")).to_have_text(earlier.strftime("%d-%m-%Y"))
    after = await release_anchored_due(page)
    assert before.keys() == after.keys() and before
    assert all(after[key] < before[key] for key in before), (before, after)

    await page.get_by_role("link", name="Dashboard").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    await check_accessible(page, "dashboard")


async def release_anchored_due(page: Page) -> dict[str, str]:
    """The due dates of the open tasks that are planned back from the release."""
    dues = {}
    for key in ("id_document", "benefit_application", "housing", "care", "work_daytime", "debt_inventory"):
        task = page.locator(f"#taak-{key} .reentry-due")
        if await task.count():
            dues[key] = await task.get_attribute("data-due")
    return dues


async def test_the_session_times_out_forms_need_their_token_and_other_municipalities_see_nothing(live, browser):
    app, url = live
    case_id = await start_case(url)
    page = await new_page(browser, url)
    start = datetime.now(UTC)
    app.dependency_overrides[clock] = lambda: start
    await sign_in(page, "anna", "caseworker", TILBURG)
    await page.goto(f"/ui/cases/{case_id}")

    # A form sent without its CSRF token is refused and changes nothing.
    await page.evaluate("document.querySelectorAll('input[name=csrf]').forEach((e) => e.remove())")
    await page.locator("#taak-contact_prison").get_by_role("button", name="Oppakken").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Formulier geweigerd")
    await check_accessible(page, "csrf-refused")
    await page.goto(f"/ui/cases/{case_id}")
    await expect(page.locator("#taak-contact_prison")).to_contain_text("niemand toegewezen")

    # Sixteen minutes without a page: signed out.
    app.dependency_overrides[clock] = lambda: start + timedelta(minutes=16)
    await page.reload()
    await expect(page).to_have_url(f"{url}/ui/login?verlopen=1")
    await expect(page.get_by_role("status")).to_contain_text("U was een tijd niet actief")
    app.dependency_overrides.pop(clock)

    # A caseworker of Breda: the case of Tilburg is not there.
    await sign_in(page, "bart", "caseworker", BREDA)
    response = await page.goto(f"/ui/cases/{case_id}")
    assert response is not None and response.status == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text("Niet gevonden")
    await check_accessible(page, "not-found")


async def test_the_mayors_office_works_its_notices_and_sees_no_casework(live, browser):
    app, url = live
    case_id = await start_case(url)
    today = local_date(datetime.now(UTC))
    async with httpx.AsyncClient(base_url=url) as api:
        mine = bij_notice(today).model_dump(mode="json")
        other = bij_notice(today, municipality=BREDA).model_dump(mode="json")
        for body in (mine, other):
            sent = await api.post("/v1/notifications/mayoral-notice", json=body, headers=PRISON)
            assert sent.status_code == 201, sent.text
    page = await new_page(browser, url)
    await sign_in(page, "mo", "mayor_office", TILBURG)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Meldingen aan de burgemeester")
    await expect(page.get_by_role("link", name=mine["notice_id"])).to_be_visible()
    await expect(page.get_by_role("link", name=other["notice_id"])).to_have_count(0)
    await expect(page.get_by_role("link", name="Mijn taken")).to_have_count(0)
    await check_accessible(page, "notices")

    await page.get_by_role("link", name=mine["notice_id"]).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Terugkeer: Jan Jansen")
    await check_accessible(page, "notice")
    step = page.locator("#taak-register_notice")
    await step.locator("summary", has_text="Uitkomst vastleggen").click()
    await step.get_by_label("Betreft deze gemeente").select_option("ja")
    await step.get_by_role("button", name="Afronden").click()
    await expect(page.get_by_role("status")).to_have_text("De taak is afgerond.")
    await expect(page.locator("#taak-register_notice")).to_have_count(0)

    response = await page.goto(f"/ui/cases/{case_id}")
    assert response is not None and response.status == 404

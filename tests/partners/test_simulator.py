"""The simulated partners behave as the real ones would, over simulated time."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from tests.helpers import next_bsn

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def day_one(detention_id: str) -> dict:
    return {
        "detention_id": detention_id,
        "person": {"bsn": next_bsn(), "given_names": "Sanne", "surname": "Bakker", "birth_date": "1991-03-14"},
        "municipality": "0855",
        "prison": "PI-TILBURG",
        "detention_start": "2027-01-04",
        "expected_release": "2027-08-02",
        "offence_category": "property",
        "conviction_final": True,
    }


async def deliver(sim: httpx.AsyncClient, detention_id: str, message_id: str | None = None) -> httpx.Response:
    body = {"type": "detention_started", "content": day_one(detention_id), "id": message_id}
    return await sim.post("/_sim/messagebox/messages", json=body)


async def advance(sim: httpx.AsyncClient, by: str) -> None:
    response = await sim.post("/_sim/clock", json={"advance": by})
    assert response.status_code == 200, response.text


# ---------------------------------------------------------------------------
# Message box


async def test_the_message_box_pages_with_a_cursor_and_a_page_read_again_is_the_same(sim: httpx.AsyncClient):
    for n in range(5):
        assert (await deliver(sim, f"DJI-2027-{n:06d}")).status_code == 201
    pages, cursor = [], None
    while True:
        params = {"limit": 2} | ({"after": cursor} if cursor else {})
        page = (await sim.get("/messagebox/messages", params=params)).json()
        pages.append(page)
        cursor = page["next_cursor"]
        if not page["more"]:
            break
    ids = [m["id"] for page in pages for m in page["messages"]]
    assert [len(p["messages"]) for p in pages] == [2, 2, 1]
    assert len(set(ids)) == 5
    assert [m["sequence"] for p in pages for m in p["messages"]] == [1, 2, 3, 4, 5]
    # A retried poll from the second page's cursor gives the same messages, ids and all.
    again = (await sim.get("/messagebox/messages", params={"after": pages[0]["next_cursor"], "limit": 2})).json()
    assert again == pages[1]
    # Past the end: no messages, and the cursor stays where it was.
    end = (await sim.get("/messagebox/messages", params={"after": cursor})).json()
    assert end == {"messages": [], "next_cursor": cursor, "more": False}


async def test_a_message_delivered_twice_under_one_id_is_kept_once(sim: httpx.AsyncClient):
    first = await deliver(sim, "DJI-2027-000101", message_id="DJI-MSG-1")
    second = await deliver(sim, "DJI-2027-000101", message_id="DJI-MSG-1")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    page = (await sim.get("/messagebox/messages")).json()
    assert [m["id"] for m in page["messages"]] == ["DJI-MSG-1"]
    assert json.loads(page["messages"][0]["content"])["detention_id"] == "DJI-2027-000101"


async def test_a_long_poll_answers_as_soon_as_a_message_arrives(sim: httpx.AsyncClient):
    poll = asyncio.create_task(sim.get("/messagebox/messages", params={"wait": 10}))
    await asyncio.sleep(0.05)
    assert not poll.done()
    await deliver(sim, "DJI-2027-000102")
    page = (await asyncio.wait_for(poll, 2)).json()
    assert [json.loads(m["content"])["detention_id"] for m in page["messages"]] == ["DJI-2027-000102"]


async def test_a_cursor_of_another_box_is_a_bad_request(sim: httpx.AsyncClient):
    response = await sim.get("/messagebox/messages", params={"after": "not-a-cursor"})
    assert response.status_code == 400
    assert response.json()["invalidParams"][0]["name"] == "after"


async def test_demo_notices_are_realistic_and_valid(sim: httpx.AsyncClient):
    from domain.models import DetentionNotice

    generated = (await sim.post("/_sim/messagebox/generate", json={"count": 20})).json()
    notices = [DetentionNotice.model_validate_json(m["content"]) for m in generated]
    assert {n.municipality for n in notices} <= {"0855", "0772", "0758", "0796", "0794"}
    assert len({n.detention_id for n in notices}) == 20
    assert all(n.person.birth_date < n.detention_start for n in notices)


# ---------------------------------------------------------------------------
# Population register (BRP)

FIELDS = ["burgerservicenummer", "naam", "gemeenteVanInschrijving", "verblijfplaats", "geboorte.datum"]


async def brp(sim: httpx.AsyncClient, *bsns: str, fields: list[str] = FIELDS) -> httpx.Response:
    query = {"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": list(bsns), "fields": fields}
    return await sim.post("/haalcentraal/api/brp/personen", json=query)


async def test_the_population_register_answers_in_the_haal_centraal_shape(sim: httpx.AsyncClient):
    bsn = next_bsn()
    await sim.post("/_sim/population/registrations", json={"bsn": bsn, "municipality": "0855", "since": "2020-05-01"})
    answer = (await brp(sim, bsn)).json()
    assert answer["type"] == "RaadpleegMetBurgerservicenummer"
    (person,) = answer["personen"]
    assert set(person) == {"burgerservicenummer", "naam", "gemeenteVanInschrijving", "verblijfplaats", "geboorte"}
    assert person["burgerservicenummer"] == bsn
    assert person["gemeenteVanInschrijving"] == {"code": "0855", "omschrijving": "Tilburg"}
    assert (
        person["geboorte"] == {"datum": person["geboorte"]["datum"]} and person["geboorte"]["datum"]["type"] == "Datum"
    )
    residence = person["verblijfplaats"]
    assert residence["type"] == "Adres"
    assert residence["verblijfadres"]["woonplaats"] == "Tilburg"
    assert 5011 <= int(residence["verblijfadres"]["postcode"][:4]) <= 5049
    assert residence["adresseerbaarObjectIdentificatie"].startswith("0855")
    assert residence["datumVan"]["datum"] == "2020-05-01" and residence["datumVan"]["langFormaat"] == "1 mei 2020"


async def test_the_same_person_every_time_and_only_the_fields_asked_for(sim: httpx.AsyncClient):
    bsn = next_bsn()
    first = (await brp(sim, bsn)).json()["personen"][0]
    again = (await brp(sim, bsn)).json()["personen"][0]
    assert first == again
    narrow = (await brp(sim, bsn, fields=["gemeenteVanInschrijving.code"])).json()["personen"][0]
    assert narrow == {"gemeenteVanInschrijving": {"code": first["gemeenteVanInschrijving"]["code"]}}


async def test_a_person_without_a_known_address_is_registered_in_the_rni(sim: httpx.AsyncClient):
    bsn = next_bsn()
    await sim.post("/_sim/population/registrations", json={"bsn": bsn, "municipality": "1999"})
    person = (await brp(sim, bsn)).json()["personen"][0]
    assert person["gemeenteVanInschrijving"]["code"] == "1999"
    assert person["verblijfplaats"]["type"] == "VerblijfplaatsOnbekend"


async def test_nobody_found_is_an_empty_list(sim: httpx.AsyncClient):
    bsn = next_bsn()
    await sim.post("/_sim/population/removals", json={"bsn": bsn})
    response = await brp(sim, bsn, "123456789")  # the second fails the 11-check: nobody has it
    assert response.status_code == 200
    assert response.json()["personen"] == []


async def test_a_wrong_query_is_a_400_that_names_the_field_but_never_echoes_the_value(sim: httpx.AsyncClient):
    wrong_bsn = await brp(sim, "12345")
    assert wrong_bsn.status_code == 400
    assert wrong_bsn.headers["content-type"] == "application/problem+json"
    assert wrong_bsn.json()["invalidParams"][0]["name"] == "burgerservicenummer.0"
    assert "12345" not in wrong_bsn.text
    automatic = await brp(sim, next_bsn(), fields=["inOnderzoek"])
    assert automatic.status_code == 400
    unknown = await brp(sim, next_bsn(), fields=["schoenmaat"])
    assert unknown.status_code == 400


# ---------------------------------------------------------------------------
# Income


async def test_a_benefit_application_is_decided_after_six_weeks_of_simulated_time(sim: httpx.AsyncClient):
    request = {"reference": "case-DJI-1/benefit_application", "bsn": next_bsn(), "municipality": "0855"}
    submitted = await sim.post("/income/applications", json=request)
    assert submitted.status_code == 201
    application = submitted.json()
    assert application["status"] == "received" and application["decision"] is None
    assert application["advance_possible_from"] == "2027-02-01"  # four weeks
    assert application["decision_due"] == "2027-03-01"  # eight weeks
    url = submitted.headers["location"]
    await advance(sim, "P3D")
    assert (await sim.get(url)).json()["status"] == "in_review"
    await advance(sim, "P5W")
    assert (await sim.get(url)).json()["decision"] is None
    await advance(sim, "P4D")
    decided = (await sim.get(url)).json()
    assert decided["status"] == "decided"
    assert decided["decision"] in ("granted", "refused")
    assert decided["decided_on"] == "2027-02-15"


async def test_submitting_again_under_the_same_reference_is_the_same_application(sim: httpx.AsyncClient):
    request = {"reference": "case-DJI-2/benefit_application", "bsn": next_bsn(), "municipality": "0772"}
    first = await sim.post("/income/applications", json=request)
    again = await sim.post("/income/applications", json=request)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    other = await sim.post("/income/applications", json=request | {"bsn": next_bsn()})
    assert other.status_code == 409


async def test_an_unknown_application_is_404_and_a_wrong_bsn_422_without_the_number(sim: httpx.AsyncClient):
    assert (await sim.get("/income/applications/INK-2027-999999")).status_code == 404
    wrong = await sim.post("/income/applications", json={"reference": "x", "bsn": "123456780", "municipality": "0855"})
    assert wrong.status_code == 422
    assert "123456780" not in wrong.text


# ---------------------------------------------------------------------------
# Civil affairs and probation


async def test_an_id_appointment_is_on_a_working_day_and_the_document_ready_a_week_later(sim: httpx.AsyncClient):
    request = {"reference": "case-DJI-3/id", "bsn": next_bsn(), "municipality": "0796", "document": "identity_card"}
    booked = await sim.post("/civil-affairs/appointments", json=request)
    assert booked.status_code == 201
    appointment = booked.json()
    starts = datetime.fromisoformat(appointment["starts_at"]).astimezone(AMSTERDAM)
    assert starts.weekday() < 5 and 9 <= starts.hour < 16
    assert starts.date() >= date(2027, 1, 6)
    assert appointment["location"] == "Publiekszaken 's-Hertogenbosch"
    assert appointment["document_status"] == "awaiting_appointment"
    url = booked.headers["location"]
    await sim.post("/_sim/clock", json={"to": (starts + timedelta(minutes=30)).isoformat()})
    assert (await sim.get(url)).json()["document_status"] == "in_production"
    await advance(sim, "P7D")
    ready = (await sim.get(url)).json()
    assert ready["document_status"] == "ready"
    assert ready["ready_on"] == (starts + timedelta(days=7)).date().isoformat()


async def test_probation_advises_three_weeks_after_it_was_asked(sim: httpx.AsyncClient):
    first = (await sim.get("/probation/detentions/DJI-2027-000201")).json()
    assert first["advice"]["status"] == "requested" and first["supervision"]["status"] == "none"
    assert first["advice"]["requested_on"] == "2027-01-04"
    await advance(sim, "P3W")
    advised = (await sim.get("/probation/detentions/DJI-2027-000201")).json()
    assert advised["advice"]["status"] == "issued"
    assert advised["advice"]["issued_on"] == "2027-01-25"
    assert advised["organisation"] == first["organisation"]
    if advised["advice"]["recommendation"] != "no_supervision":
        assert advised["supervision"]["status"] == "planned" and advised["advice"]["special_conditions"]


# ---------------------------------------------------------------------------
# Open Notificaties


async def test_the_notification_component_takes_open_notificaties_messages(sim: httpx.AsyncClient):
    message = {
        "kanaal": "reentry-taken",
        "hoofdObject": "http://reentry.test/v1/cases/case-DJI-1",
        "resource": "task",
        "resourceUrl": "http://reentry.test/v1/cases/case-DJI-1/tasks/contact_prison",
        "actie": "reminder",
        "aanmaakdatum": "2027-01-04T08:00:00Z",
        "kenmerken": {"case_id": "case-DJI-1", "task_key": "contact_prison", "level": "reminder"},
    }
    response = await sim.post("/notificaties/api/v1/notificaties", json=message)
    assert response.status_code == 200
    assert response.json() == message
    assert (await sim.get("/_sim/received/notifications")).json() == [message]
    incomplete = await sim.post(
        "/notificaties/api/v1/notificaties", json={k: v for k, v in message.items() if k != "kanaal"}
    )
    assert incomplete.status_code == 422


# ---------------------------------------------------------------------------
# The clock


async def test_simulated_time_only_moves_forward(sim: httpx.AsyncClient):
    now = (await sim.get("/_sim/clock")).json()
    assert now == {"now": "2027-01-04T08:00:00Z", "frozen": True}
    back = await sim.post("/_sim/clock", json={"to": "2026-12-31T00:00:00Z"})
    assert back.status_code == 409
    moved = (await sim.post("/_sim/clock", json={"advance": "P1DT2H"})).json()
    assert moved["now"] == "2027-01-05T10:00:00Z"

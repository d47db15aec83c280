"""Each partner client against the simulator: realistic answers read into typed models."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx

from activities.partners import (
    CivilAffairsClient,
    IncomeClient,
    MessageBoxClient,
    OpenNotificatiesClient,
    PopulationRegisterClient,
    ProbationClient,
)
from activities.partners.civil_affairs import IdAppointmentRequest
from activities.partners.delivery import OpenNotification
from activities.partners.income import BenefitApplicationRequest
from activities.partners.message_box import DetentionEnded, DetentionStarted, PlanShared, read_page
from activities.partners.population_register import registration_of
from tests.helpers import next_bsn
from tests.partners.simulator import START

Connect = Callable[..., Any]


async def test_the_message_box_gives_typed_messages_in_order(sim: httpx.AsyncClient, connect: Connect):
    bsn = next_bsn()
    notice = {
        "detention_id": "DJI-2027-000301",
        "person": {"bsn": bsn, "given_names": "Kevin", "surname": "de Vries", "birth_date": "1994-07-02"},
        "municipality": "0855",
        "prison": "PI-TILBURG",
        "detention_start": "2027-01-04",
        "expected_release": "2027-08-02",
        "offence_category": "property",
        "conviction_final": True,
    }
    plan = {
        "detention_id": "DJI-2027-000301",
        "version": 1,
        "drawn_up_on": "2027-02-01",
        "basic_conditions": {"id_document": "needs_action", "income": "needs_action", "housing": "in_order"},
    }
    ended = {"detention_id": "DJI-2027-000301", "release_date": "2027-08-02", "reason": "sentence_served"}
    for type_, content in [("detention_started", notice), ("reintegration_plan", plan), ("detention_ended", ended)]:
        await sim.post("/_sim/messagebox/messages", json={"type": type_, "content": content})
    box = connect(MessageBoxClient)
    first = read_page(await box.read(limit=2))
    assert [type(m) for m in first.messages] == [DetentionStarted, PlanShared]
    started = first.messages[0]
    assert isinstance(started, DetentionStarted)
    assert started.content.person.bsn == bsn and started.content.case_id == "case-DJI-2027-000301"
    assert first.more and not first.unreadable
    rest = read_page(await box.read(after=first.next_cursor))
    (end,) = rest.messages
    assert isinstance(end, DetentionEnded) and end.content.release_date == date(2027, 8, 2)
    assert not rest.more


async def test_the_population_register_confirms_where_a_person_is_registered(sim: httpx.AsyncClient, connect: Connect):
    register = connect(PopulationRegisterClient)
    here, moved, rni = next_bsn(), next_bsn(), next_bsn()
    await sim.post("/_sim/population/registrations", json={"bsn": here, "municipality": "0855"})
    await sim.post("/_sim/population/registrations", json={"bsn": moved, "municipality": "0758", "since": "2027-01-02"})
    await sim.post("/_sim/population/registrations", json={"bsn": rni, "municipality": "1999"})
    await sim.post("/_sim/population/removals", json={"bsn": (gone := next_bsn())})

    tilburg = registration_of(await register.find(here), "0855")
    assert tilburg.status == "registered_here" and tilburg.municipality_name == "Tilburg"
    assert tilburg.address is not None and tilburg.address.place == "Tilburg" and tilburg.address.house_number
    breda = registration_of(await register.find(moved), "0855")
    assert breda.status == "registered_elsewhere"  # a transfer task for the case
    assert (breda.municipality, breda.registered_since) == ("0758", date(2027, 1, 2))
    assert registration_of(await register.find(rni), "0855").status == "no_known_address"
    assert await register.find(gone) is None


async def test_a_benefit_application_is_submitted_once_and_decided_later(sim: httpx.AsyncClient, connect: Connect):
    income = connect(IncomeClient)
    request = BenefitApplicationRequest(reference="case-DJI-2027-000302/benefit", bsn=next_bsn(), municipality="0855")
    application = await income.submit(request)
    assert application.status == "received"
    assert application.submitted_at == START
    assert (application.advance_possible_from, application.decision_due) == (date(2027, 2, 1), date(2027, 3, 1))
    assert (await income.submit(request)).id == application.id  # retried: the same application
    await sim.post("/_sim/clock", json={"advance": "P6W"})
    decided = await income.read(application.id)
    assert decided.status == "decided" and decided.decision in ("granted", "refused")
    assert decided.decided_on == date(2027, 2, 15)


async def test_an_id_appointment_is_booked_and_the_document_is_ready_a_week_after(
    sim: httpx.AsyncClient, connect: Connect
):
    civil_affairs = connect(CivilAffairsClient)
    request = IdAppointmentRequest(reference="case-DJI-2027-000303/id", bsn=next_bsn(), municipality="0772")
    appointment = await civil_affairs.book(request)
    assert appointment.document == "identity_card" and appointment.location == "Publiekszaken Eindhoven"
    assert appointment.document_status == "awaiting_appointment"
    await sim.post("/_sim/clock", json={"to": appointment.starts_at.isoformat()})
    await sim.post("/_sim/clock", json={"advance": "P7D"})
    ready = await civil_affairs.read(appointment.id)
    assert ready.document_status == "ready"
    assert ready.ready_on == appointment.starts_at.date() + timedelta(days=7)


async def test_probation_advice_is_read_for_a_detention(sim: httpx.AsyncClient, connect: Connect):
    probation = connect(ProbationClient)
    asked = await probation.read("DJI-2027-000304")
    assert asked.advice.status == "requested" and asked.advice.recommendation is None
    await sim.post("/_sim/clock", json={"advance": "P3W"})
    advised = await probation.read("DJI-2027-000304")
    assert advised.advice.status == "issued" and advised.advice.recommendation is not None
    assert advised.organisation in {
        "Reclassering Nederland",
        "Leger des Heils Jeugdbescherming & Reclassering",
        "Verslavingsreclassering GGZ",
    }


async def test_an_open_notificaties_message_goes_out_in_its_dutch_shape(sim: httpx.AsyncClient, connect: Connect):
    notifications = connect(OpenNotificatiesClient)
    message = OpenNotification(
        channel="reentry-taken",
        main_object="http://reentry.test/v1/cases/case-DJI-1",
        resource="task",
        resource_url="http://reentry.test/v1/cases/case-DJI-1/tasks/screening",
        action="escalated",
        created_at=START,
        attributes={"case_id": "case-DJI-1", "task_key": "screening", "level": "supervisor"},
    )
    await notifications.publish(message)
    (received,) = (await sim.get("/_sim/received/notifications")).json()
    assert received == {
        "kanaal": "reentry-taken",
        "hoofdObject": "http://reentry.test/v1/cases/case-DJI-1",
        "resource": "task",
        "resourceUrl": "http://reentry.test/v1/cases/case-DJI-1/tasks/screening",
        "actie": "escalated",
        "aanmaakdatum": "2027-01-04T08:00:00Z",
        "kenmerken": {"case_id": "case-DJI-1", "task_key": "screening", "level": "supervisor"},
    }

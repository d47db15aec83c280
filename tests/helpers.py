"""Made-up residents and notices for tests and demo data, and the tests' encryption key."""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from stdnum.nl import bsn as stdnum_bsn
from temporalio import activity
from temporalio.client import Client

from activities.partners.civil_affairs import IdAppointment, IdAppointmentQuery, IdAppointmentRequest
from activities.partners.income import BenefitApplication, BenefitApplicationQuery, BenefitApplicationRequest
from activities.partners.population_register import RegistrationCheck
from activities.partners.probation import (
    MayoralAdvice,
    MayoralAdviceQuery,
    MayoralAdviceStatus,
    ProbationAdvice,
    ProbationQuery,
    ProbationStatus,
    Supervision,
)
from api.tokens import create_development_key, issue_token
from core.codec import Keyring
from domain.mayoral import MayoralNotice
from domain.models import DetentionNotice, Person
from domain.registration import Registration
from workflows.case import CaseWorkflow

# The tests' payload encryption key. Fixed, so that histories recorded with it
# (`make histories`) replay in later runs; it protects no real data.
TEST_KEY_LINE = "test-2026-a:Fao2I84EuF/XpE0670875vseYj5T96j+z0BkHcESdhU="
TEST_KEYRING = Keyring.parse(TEST_KEY_LINE)

_counter = itertools.count(100_000_000)


def next_bsn() -> str:
    """The next made-up number that passes the 11-check."""
    while True:
        candidate = str(next(_counter))
        if stdnum_bsn.is_valid(candidate):
            return candidate


def notice(
    today: date,
    *,
    release_in: timedelta | None = timedelta(weeks=30),
    municipality: str = "0855",
    offence: str = "property",
    conviction_final: bool = True,
    detention_id: str | None = None,
) -> DetentionNotice:
    return DetentionNotice(
        detention_id=detention_id or f"DJI-T-{uuid.uuid4().hex[:12]}",
        person=Person(bsn=next_bsn(), given_names="Jan", surname="Jansen", birth_date=date(1990, 1, 31)),
        municipality=municipality,
        prison="PI-TILBURG",
        detention_start=today,
        expected_release=today + release_in if release_in is not None else None,
        offence_category=offence,
        conviction_final=conviction_final,
    )


def bij_notice(
    today: date, *, kind: str = "return", starts_in: timedelta = timedelta(weeks=6), **fields: Any
) -> MayoralNotice:
    """A BIJ notice to the mayor of a made-up resident: a return, or a two-day leave."""
    starts_on = today + starts_in
    return MayoralNotice.model_validate(
        {
            "notice_id": f"BIJ-T-{uuid.uuid4().hex[:10]}",
            "kind": kind,
            "detention_id": f"DJI-T-{uuid.uuid4().hex[:10]}",
            "person": {"bsn": next_bsn(), "given_names": "Jan", "surname": "Jansen", "birth_date": "1980-05-17"},
            "municipality": "0855",
            "prison": "PI-VUGHT",
            "starts_on": str(starts_on),
            "ends_on": str(starts_on + timedelta(days=2)) if kind == "leave" else None,
            "offence_category": "violent",
            "measure": "tbs" if kind == "leave" else "none",
            **fields,
        }
    )


@activity.defn(name="check_registration")
async def registered_here(check: RegistrationCheck) -> Registration:
    """The population register as most tests need it: the person lives where the case is.
    (tests/workflows/test_registration.py asks the simulated register.)"""
    return Registration(status="registered_here", municipality=check.municipality)


def _not_decided(application_id: str, reference: str) -> BenefitApplication:
    return BenefitApplication(
        id=application_id,
        reference=reference,
        status="in_review",
        submitted_at=datetime(2026, 1, 1, tzinfo=UTC),
        advance_possible_from=date(2026, 1, 29),
        decision_due=date(2026, 2, 26),
    )


@activity.defn(name="submit_benefit_application")
async def application_taken(request: BenefitApplicationRequest) -> BenefitApplication:
    """The income system as most tests need it: it takes the application and never decides,
    so the caseworker records the decision (tests/workflows/test_income.py asks the simulator)."""
    return _not_decided("stand-in-1", request.reference)


@activity.defn(name="read_benefit_application")
async def application_in_review(query: BenefitApplicationQuery) -> BenefitApplication:
    return _not_decided(query.application_id, "stand-in")


def _in_production(appointment_id: str, reference: str) -> IdAppointment:
    return IdAppointment(
        id=appointment_id,
        reference=reference,
        document="identity_card",
        starts_at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        location="Publiekszaken",
        document_status="in_production",
    )


@activity.defn(name="book_id_appointment")
async def appointment_booked(request: IdAppointmentRequest) -> IdAppointment:
    """Civil affairs as most tests need it: it books the appointment and the document is
    never ready, so the caseworker completes the ID task (tests/workflows/test_civil_affairs.py
    asks the simulator)."""
    return _in_production("stand-in-1", request.reference)


@activity.defn(name="read_id_appointment")
async def appointment_in_production(query: IdAppointmentQuery) -> IdAppointment:
    return _in_production(query.appointment_id, "stand-in")


@activity.defn(name="read_probation_advice")
async def advice_requested(query: ProbationQuery) -> ProbationStatus:
    """Probation as most tests need it: the advice is requested and never issued, so the
    case records none (tests/workflows/test_probation.py asks the simulator)."""
    return ProbationStatus(
        detention_id=query.detention_id,
        organisation="Reclassering Nederland",
        advice=ProbationAdvice(status="requested", requested_on=date(2026, 1, 1)),
        supervision=Supervision(status="none"),
    )


@activity.defn(name="read_mayoral_advice")
async def mayoral_advice_requested(query: MayoralAdviceQuery) -> MayoralAdviceStatus:
    """Probation's advice to the mayor, requested and never issued (tests/workflows/test_mayoral.py
    asks the simulator)."""
    return MayoralAdviceStatus(
        notice_id=query.notice_id,
        organisation="Reclassering Nederland",
        advice=MayoralAdvice(status="requested", requested_on=date(2026, 1, 1)),
    )


# The partners that cases call, stood in for tests that do not exercise them.
STAND_INS = [
    registered_here,
    application_taken,
    application_in_review,
    appointment_booked,
    appointment_in_production,
    advice_requested,
    mayoral_advice_requested,
]


# Tokens for the tests: signed by a development key of this test run's own, which the
# test apps are configured to trust (`TRUST_TEST_KEY`).
_KEY_PATH = Path(tempfile.mkdtemp(prefix="reentry-test-key-")) / "development-signing-key.pem"
_KEY = create_development_key(_KEY_PATH)
TRUST_TEST_KEY = {"auth_development_key": _KEY_PATH}


def bearer(user: str, *roles: str, municipalities: tuple[str, ...] = ("*",), **kwargs) -> dict[str, str]:
    """The Authorization header of a user with these roles and municipalities."""
    token = issue_token(
        _KEY,
        user=user,
        roles=roles,
        municipalities=municipalities,
        issuer="reentry-local",
        audience="reentry",
        **kwargs,
    )
    return {"Authorization": f"Bearer {token}"}


def sign(user: str, roles: list[str], municipalities: list[str]) -> str:
    return bearer(user, *roles, municipalities=tuple(municipalities))["Authorization"].removeprefix("Bearer ")


PRISON = bearer("prison_service", "partner_system")
CAROLINE = bearer("caroline", "caseworker", "coordinator")


async def settled(client: Client, case_id: str) -> None:
    """Until the case's own registration check and its day-one reminder are through and
    written, so that their spans do not mix with those a test looks at."""
    handle = client.get_workflow_handle_for(CaseWorkflow.run, case_id)
    for _ in range(200):
        state = await handle.query(CaseWorkflow.state)
        reminded = any(n.task_key == "contact_prison" for n in state.notifications)
        if state.registration is not None and reminded and state.projected_revision >= state.revision:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{case_id} did not finish its registration check")

"""Demo and training data: cases in the courses of docs/scenarios.md, and notices to the
mayor (docs/mayoral.md), through the API.

Everything goes through the HTTP API, as the prison service and caseworkers would send
it, so the cases are real: they escalate, and their tasks can be completed. Residents,
numbers and detention ids are made up; every BSN passes the 11-check and lies in a range
(900,000,000 and up) chosen for demo data.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
from stdnum.nl import bsn as stdnum_bsn

TILBURG, EINDHOVEN, BREDA, DEN_BOSCH, HELMOND = "0855", "0772", "0758", "0796", "0794"
# Scenario 10: the five share one regional team.
REGION = [TILBURG, EINDHOVEN, BREDA, DEN_BOSCH, HELMOND]
PRISON_SERVICE = "prison_service"
# The mayor's office's public-order adviser (OOV) of the region.
MAYORS_OFFICE = "oov-ilse"

# A signer makes a bearer token: (user, roles, municipalities) -> token.
Signer = Callable[[str, list[str], list[str]], str]
# Tells the (simulated) population register where a demo resident lives: (bsn, municipality).
# Each case asks the register; without it, most made-up residents live elsewhere and
# their cases would be handed over.
Registrar = Callable[[str, str], Awaitable[None]]
# Puts a message in the (simulated) justice message box, as the prison does: (type,
# content). The worker's intake brings it into its case within a minute.
Sharer = Callable[[str, dict[str, Any]], Awaitable[None]]

NAMES = [
    ("Jan", "Jansen"),
    ("Fatima", "El Amrani"),
    ("Kevin", "de Vries"),
    ("Sanne", "Bakker"),
    ("Mohamed", "Yilmaz"),
    ("Peter", "van Dijk"),
    ("Priya", "Ramdin"),
    ("Dennis", "Smits"),
    ("Anouk", "Visser"),
    ("Rachid", "Bouzid"),
]

# Scenario 1: no valid ID, no income, housing lost, debts unknown, consent for all but care.
SCREENING = {
    "id_document": "needs_action",
    "income": "needs_action",
    "housing": "needs_action",
    "work_daytime": "in_order",
    "care": "no_consent",
    "debts": "unknown",
    "social_network": "in_order",
}


def made_up_bsns(start: int = 900_000_000) -> Iterator[str]:
    for number in itertools.count(start):
        if stdnum_bsn.is_valid(str(number)):
            yield str(number)


class SeedError(RuntimeError):
    pass


def demo_grant(actor: str) -> tuple[list[str], list[str]]:
    """The roles and municipalities of a demo actor: the prison service reports on every
    municipality; the caseworkers are the regional team's."""
    if actor == PRISON_SERVICE:
        return ["partner_system"], ["*"]
    if actor == MAYORS_OFFICE:
        return ["mayor_office"], REGION
    return ["caseworker"], REGION


@dataclass
class Seeded:
    cases: list[str]
    # The mayoral notices' ids (``bij-…``).
    notices: list[str]


@dataclass
class Seeder:
    api: httpx.AsyncClient
    today: date
    sign: Signer
    bsns: Iterator[str] = field(default_factory=made_up_bsns)
    names: Iterator[tuple[str, str]] = field(default_factory=lambda: itertools.cycle(NAMES))
    seeded: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    register: Registrar | None = None
    share: Sharer | None = None
    # The day-one notices sent, by case id: a mayoral notice names the same person.
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def _post(self, path: str, body: dict[str, Any] | None = None, actor: str = "demo") -> dict[str, Any]:
        token = self.sign(actor, *demo_grant(actor))
        response = await self.api.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
        if response.status_code >= 300:
            raise SeedError(f"{path}: {response.status_code} {response.text}")
        return response.json()

    async def notice(
        self,
        municipality: str,
        *,
        started_weeks_ago: float = 0,
        release_in: timedelta | None,
        offence: str = "property",
        final: bool = True,
        again_of: str | None = None,
    ) -> str:
        """A day-one notice of a new made-up resident, or of the resident of ``again_of``."""
        start = self.today - timedelta(weeks=started_weeks_ago)
        if again_of is not None:
            person = self.sent[again_of]["person"]
        else:
            given, surname = next(self.names)
            person = {"bsn": next(self.bsns), "given_names": given, "surname": surname, "birth_date": "1988-05-17"}
            if self.register is not None:
                await self.register(person["bsn"], municipality)
        body = {
            "detention_id": f"DEMO-{uuid.uuid4().hex[:10].upper()}",
            "person": person,
            "municipality": municipality,
            "prison": "PI-VUGHT",
            "detention_start": str(start),
            "expected_release": str(self.today + release_in) if release_in is not None else None,
            "offence_category": offence,
            "conviction_final": final,
        }
        case_id = (await self._post("/v1/notifications/detention-started", body, actor=PRISON_SERVICE))["case_id"]
        self.seeded.append(case_id)
        self.sent[case_id] = body
        return case_id

    async def mayoral_notice(
        self, municipality: str, *, kind: str, starts_in: timedelta, case_id: str | None = None, **fields: Any
    ) -> str:
        """The justice information service's notice to the mayor; of the person of
        ``case_id`` when given, else of a new made-up resident."""
        if case_id is not None:
            sent = self.sent[case_id]
            person, detention_id = sent["person"], sent["detention_id"]
        else:
            given, surname = next(self.names)
            person = {"bsn": next(self.bsns), "given_names": given, "surname": surname, "birth_date": "1985-09-02"}
            detention_id = f"DEMO-{uuid.uuid4().hex[:10].upper()}"
        starts_on = self.today + starts_in
        body = {
            "notice_id": f"BIJ-DEMO-{uuid.uuid4().hex[:8].upper()}",
            "kind": kind,
            "detention_id": detention_id,
            "person": person,
            "municipality": municipality,
            "prison": "PI-VUGHT",
            "starts_on": str(starts_on),
            "ends_on": str(starts_on + timedelta(days=2)) if kind == "leave" else None,
            "offence_category": "violent",
            **fields,
        }
        notice_id = (await self._post("/v1/notifications/mayoral-notice", body, actor=PRISON_SERVICE))["id"]
        self.notices.append(notice_id)
        return notice_id

    async def mayoral_step(self, notice_id: str, key: str, outcome: dict[str, Any] | None = None) -> None:
        path = f"/v1/mayoral-notices/{notice_id}/tasks/{key}/complete"
        await self._post(path, {"outcome": outcome}, actor=MAYORS_OFFICE)

    async def complete(
        self, case_id: str, key: str, outcome: dict[str, Any] | None = None, actor: str = "anna"
    ) -> None:
        await self._post(f"/v1/cases/{case_id}/tasks/{key}/complete", {"outcome": outcome}, actor=actor)

    async def event(self, case_id: str, event: dict[str, Any], actor: str = "anna") -> None:
        await self._post(f"/v1/cases/{case_id}/events", event, actor=actor)

    async def claim(self, case_id: str, key: str, actor: str) -> None:
        await self._post(f"/v1/cases/{case_id}/tasks/{key}/claim", actor=actor)

    async def contact_and_screen(self, case_id: str, actor: str = "anna") -> None:
        await self.complete(case_id, "contact_prison", {"kind": "contact", "contacted_on": str(self.today)}, actor)
        await self.complete(case_id, "screening", {"kind": "screening", "conditions": SCREENING}, actor)

    async def run(self) -> list[str]:
        today = str(self.today)
        # 1. The ordinary course: plan agreed, the basic conditions under way.
        # In Tilburg the prison's agreed D&R plan completes the plan task, where the
        # message box can be reached; in Eindhoven the caseworker records it.
        for municipality in (TILBURG, EINDHOVEN):
            case = await self.notice(municipality, started_weeks_ago=4, release_in=timedelta(weeks=26))
            await self.contact_and_screen(case)
            if municipality == TILBURG and self.share is not None:
                await self.share("reintegration_plan", self.shared_plan(case))
            else:
                await self.complete(case, "reintegration_plan", {"kind": "plan", "agreed_on": today})
            await self.claim(case, "id_document", "anna")
        # 2. Nobody picks it up: new notices, nothing done yet (they will escalate).
        for municipality in (TILBURG, DEN_BOSCH, HELMOND):
            await self.notice(municipality, release_in=timedelta(weeks=30))
        # 3. Release moves earlier: from 20 to 7 weeks; the ID and benefit chain is at risk.
        case = await self.notice(EINDHOVEN, started_weeks_ago=2, release_in=timedelta(weeks=20))
        await self.contact_and_screen(case, actor="bram")
        await self.event(
            case,
            {
                "type": "expected_release_changed",
                "expected_release": str(self.today + timedelta(weeks=7)),
                "reason": "voorwaardelijke invrijheidstelling",
            },
            actor=PRISON_SERVICE,
        )
        # 4. Short stay: preventive custody of 9 days, triage on day one.
        await self.notice(HELMOND, release_in=timedelta(days=9), final=False)
        # 5. Unexpected release: custody lifted today, 14 weeks early.
        case = await self.notice(BREDA, started_weeks_ago=3, release_in=timedelta(weeks=14), final=False)
        await self.contact_and_screen(case, actor="bram")
        await self.event(case, {"type": "released", "released_on": today}, actor=PRISON_SERVICE)
        # 6. Back inside: released six weeks ago, detained again today.
        old = await self.notice(DEN_BOSCH, started_weeks_ago=20, release_in=timedelta(weeks=-6))
        await self.event(
            old, {"type": "released", "released_on": str(self.today - timedelta(weeks=6))}, actor=PRISON_SERVICE
        )
        new = await self.notice(DEN_BOSCH, release_in=timedelta(weeks=16), again_of=old)
        await self.event(
            old, {"type": "re_detained", "new_detention_id": new.removeprefix("case-")}, actor=PRISON_SERVICE
        )
        # 7. Moves away: registered in Breda before release; the handover is open.
        case = await self.notice(TILBURG, started_weeks_ago=6, release_in=timedelta(weeks=10))
        await self.contact_and_screen(case)
        await self.event(case, {"type": "moved", "municipality": BREDA})
        # 8. Declines support; and consent for debts withdrawn.
        case = await self.notice(EINDHOVEN, release_in=timedelta(weeks=12))
        await self.event(case, {"type": "declined", "note": "wil geen ondersteuning van de gemeente"})
        case = await self.notice(BREDA, started_weeks_ago=2, release_in=timedelta(weeks=24))
        await self.contact_and_screen(case, actor="bram")
        await self.event(case, {"type": "consent_withdrawn", "condition": "debts"})
        # 9. A serious offender returns: the caseworker's case, and beside it the mayor's
        # notice, worked through to an area ban.
        case = await self.notice(DEN_BOSCH, started_weeks_ago=40, release_in=timedelta(weeks=6), offence="violent")
        await self.contact_and_screen(case)
        if self.share is not None:
            risk = {
                "detention_id": self.sent[case]["detention_id"],
                "assessed_on": str(self.today - timedelta(weeks=1)),
                "recidivism": "moderate",
                "harm": "high",
                "codes": ["victim_nearby", "area_ban"],
                "conviction_final": True,
                "offence_category": "violent",
                "mayoral_notice": True,
            }
            await self.share("risk_information", risk)
        await self.mayoral_track(case)
        return self.seeded

    def shared_plan(self, case_id: str) -> dict[str, Any]:
        """Scenario 1's D&R plan as the prison shares it: agreed today, actions as codes."""
        day = self.today
        return {
            "detention_id": self.sent[case_id]["detention_id"],
            "version": 1,
            "drawn_up_on": str(day - timedelta(days=3)),
            "status": "agreed",
            "agreed_on": str(day),
            "basic_conditions": {c: s for c, s in SCREENING.items() if s != "no_consent"},
            "actions": [
                {"condition": "id_document", "code": "id_apply", "due_on": str(day + timedelta(weeks=6))},
                {"condition": "income", "code": "income_apply", "due_on": str(day + timedelta(weeks=14))},
                {"condition": "housing", "code": "housing_shelter", "due_on": str(day + timedelta(weeks=20))},
                {"condition": "debts", "code": "debt_inventory"},
            ],
        }

    async def mayoral_track(self, serious_case: str) -> None:
        """Three notices to the mayor: the serious offender's return, assessed, with an area
        ban decided; a leave told four days ahead (its plan compressed); and a return to
        Helmond without expected unrest, filtered where Helmond's policy acts only where
        unrest is expected (``mayoral.only_unrest_expected``)."""
        returning = await self.mayoral_notice(
            DEN_BOSCH, kind="return", starts_in=timedelta(weeks=6), case_id=serious_case, unrest_expected=True
        )
        await self.mayoral_step(
            returning, "register_notice", {"kind": "notice_registered", "concerns_municipality": True}
        )
        information = {"kind": "information", "probation_consulted": True, "police_consulted": True}
        await self.mayoral_step(returning, "gather_information", {**information, "victims_nearby": "yes"})
        reasons = "slachtoffer woont in de wijk; politie verwacht onrust"
        await self.mayoral_step(
            returning, "assess_risk", {"kind": "assessment", "decision": "measures", "reasons": reasons}
        )
        starts_on = self.today + timedelta(weeks=6)
        ban = {
            "type": "area_ban",
            "starts_on": str(starts_on),
            "ends_on": str(starts_on + timedelta(weeks=12)),
            "area": "Binnenstad-Oost",
        }
        await self.mayoral_step(returning, "decide_measures", {"kind": "measures", "measures": [ban]})
        await self.mayoral_notice(EINDHOVEN, kind="leave", starts_in=timedelta(days=4), measure="tbs")
        await self.mayoral_notice(HELMOND, kind="return", starts_in=timedelta(weeks=8))


async def seed(
    api: httpx.AsyncClient,
    today: date,
    sign: Signer,
    register: Registrar | None = None,
    share: Sharer | None = None,
) -> Seeded:
    """Seed the demo cases and mayoral notices through the API, with tokens from `sign`.
    With `register`, each resident is first registered where the notice says they live;
    with `share`, the prison's D&R plan and risk information go into the message box."""
    seeder = Seeder(api, today, sign, register=register, share=share)
    await seeder.run()
    return Seeded(cases=seeder.seeded, notices=seeder.notices)

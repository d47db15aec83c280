"""The simulator's own controls (``/_sim``): the clock, the faults, the sending side of the
message box, the population register's moves, and what the simulator received.

Never disturbed by faults. Not part of any partner's real API.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Response, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from partners.clock import ClockError
from partners.config import FaultPlan, Partner
from partners.deps import Bsn, MunicipalityCode, SimDep, problem
from partners.people import NORTH_BRABANT
from partners.routers.message_box import BoxMessage, MessageType
from partners.state import Simulation, share, spoil_content

router = APIRouter(prefix="/_sim", tags=["simulator"])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------------
# Clock


class ClockView(BaseModel):
    now: datetime
    frozen: bool


class ClockChange(_Strict):
    advance: timedelta | None = Field(default=None, description="move forward by this much, e.g. P7D")
    to: AwareDatetime | None = Field(default=None, description="move forward to this moment")
    frozen: bool | None = Field(default=None, description="stop (true) or restart (false) the clock")

    @model_validator(mode="after")
    def _one_move(self) -> ClockChange:
        if self.advance is not None and self.to is not None:
            raise ValueError("give advance or to, not both")
        return self


def _clock(sim: Simulation) -> ClockView:
    return ClockView(now=sim.clock.now(), frozen=sim.clock.frozen)


@router.get("/clock", response_model=ClockView)
async def read_clock(sim: SimDep):
    """The simulated now."""
    return _clock(sim)


@router.post("/clock", response_model=ClockView)
async def change_clock(change: ClockChange, sim: SimDep):
    """Moves simulated time forward, or freezes and restarts it."""
    try:
        if change.frozen is True:
            sim.clock.freeze()
        if change.advance is not None:
            sim.clock.advance(change.advance)
        if change.to is not None:
            sim.clock.set(change.to)
        if change.frozen is False:
            sim.clock.unfreeze()
    except ClockError as err:
        return problem(409, "Conflict", str(err))
    return _clock(sim)


# ---------------------------------------------------------------------------
# Faults


class FaultsView(BaseModel):
    seed: int
    plan: FaultPlan
    injected: dict[str, int] = Field(description="faults injected so far, per partner and kind")


class FaultsChange(_Strict):
    plan: FaultPlan
    seed: int | None = Field(default=None, description="restart the random faults from this seed")


def _faults(sim: Simulation) -> FaultsView:
    return FaultsView(seed=sim.faults.seed, plan=sim.faults.plan, injected=dict(sim.faults.injected))


@router.get("/faults", response_model=FaultsView)
async def read_faults(sim: SimDep):
    """The fault plan in force, and the faults injected so far."""
    return _faults(sim)


@router.put("/faults", response_model=FaultsView)
async def replace_faults(change: FaultsChange, sim: SimDep):
    """Replaces the fault plan; the random faults start again from the seed."""
    sim.faults.replace(change.plan, seed=sim.faults.seed if change.seed is None else change.seed)
    return _faults(sim)


# ---------------------------------------------------------------------------
# The sending side of the message box


class MessageDelivery(_Strict):
    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
    type: MessageType
    content: dict[str, Any] | str = Field(description="the document: an object, or JSON text as written")


def _deliver(sim: Simulation, delivery: MessageDelivery) -> tuple[BoxMessage, bool]:
    content = delivery.content if isinstance(delivery.content, str) else json.dumps(delivery.content)
    if delivery.id is None or not sim.message_box.has(delivery.id):
        unreadable = sim.faults.plan.for_partner(Partner.MESSAGE_BOX).malformed_messages
        rnd = sim.faults.message_random()
        if rnd.random() < unreadable:
            content = spoil_content(content, rnd.random())
            sim.faults.injected[f"{Partner.MESSAGE_BOX.value}.unreadable_message"] += 1
    message, created = sim.message_box.post(
        type_=delivery.type, content=content, sent_at=sim.clock.now(), id_=delivery.id
    )
    return BoxMessage.of(message), created


@router.post("/messagebox/messages", status_code=status.HTTP_201_CREATED, response_model=BoxMessage)
async def deliver_message(delivery: MessageDelivery, response: Response, sim: SimDep):
    """Puts a message in the box, as the prison service's systems do; the same id twice is kept once (200)."""
    message, created = _deliver(sim, delivery)
    if not created:
        response.status_code = status.HTTP_200_OK
    return message


class Generate(_Strict):
    count: int = Field(default=5, ge=1, le=200)


PRISONS = ["PI-VUGHT", "PI-TILBURG", "PI-ZAANDAM", "PI-HEERHUGOWAARD", "PI-ROERMOND"]
OFFENCES = ["property", "property", "drugs", "violent", "traffic", "other", "sexual"]


def day_one_notice(sim: Simulation) -> dict[str, Any]:
    """A realistic day-one notice for a made-up resident."""
    resident = sim.population.find(next(sim.demo_bsns))
    assert resident is not None
    number = next(sim.demo_detentions)
    detention_id = f"DJI-{sim.today():%Y}-{900000 + number:06d}"
    roll = share(sim.seed, "notice", detention_id)
    code = resident.municipality.code
    municipality = code if code in NORTH_BRABANT else NORTH_BRABANT[int(roll * len(NORTH_BRABANT))]
    start = sim.today()
    return {
        "detention_id": detention_id,
        "person": {
            "bsn": resident.bsn,
            "given_names": resident.given_names,
            "surname": " ".join(p for p in (resident.prefix, resident.surname) if p),
            "birth_date": resident.birth_date.isoformat(),
        },
        "municipality": municipality,
        "prison": PRISONS[int(share(sim.seed, "prison", detention_id) * len(PRISONS))],
        "detention_start": start.isoformat(),
        "expected_release": (start + timedelta(weeks=4 + int(roll * 48))).isoformat() if roll < 0.9 else None,
        "offence_category": OFFENCES[int(share(sim.seed, "offence", detention_id) * len(OFFENCES))],
        "conviction_final": roll < 0.6,
    }


@router.post("/messagebox/generate", status_code=status.HTTP_201_CREATED, response_model=list[BoxMessage])
async def generate_messages(generate: Generate, sim: SimDep):
    """Puts day-one notices of made-up residents in the box, for a demonstration."""
    return [
        _deliver(sim, MessageDelivery(type="detention_started", content=day_one_notice(sim)))[0]
        for _ in range(generate.count)
    ]


# ---------------------------------------------------------------------------
# The population register: moves


class Registration(_Strict):
    bsn: Bsn
    municipality: MunicipalityCode = Field(description="where the person is registered now; 1999: no known address")
    since: date | None = None


class Removal(_Strict):
    bsn: Bsn


@router.post("/population/registrations")
async def register(registration: Registration, sim: SimDep) -> dict[str, str]:
    """Registers a person in another municipality (a move), from today or ``since``."""
    resident = sim.population.register(registration.bsn, registration.municipality, registration.since or sim.today())
    return {"municipality": resident.municipality.code, "since": resident.registered_since.isoformat()}


@router.post("/population/removals", status_code=status.HTTP_204_NO_CONTENT)
async def remove(removal: Removal, sim: SimDep) -> None:
    """Takes a person out of the register: a lookup finds nobody."""
    sim.population.remove(removal.bsn)


# ---------------------------------------------------------------------------
# What came in


@router.get("/received/notifications")
async def received_notifications(sim: SimDep) -> list[dict[str, Any]]:
    """The Open Notificaties messages received, oldest first."""
    return sim.notifications


@router.get("/received/mail")
async def received_mail(sim: SimDep) -> list[dict[str, Any]]:
    """The e-mails the simulator's SMTP server received, oldest first."""
    return [
        {
            "from": m.mail_from,
            "to": m.to,
            "subject": m.subject,
            "message_id": m.message_id,
            "body": m.body,
            "received_at": m.received_at.isoformat(),
        }
        for m in sim.mail
    ]

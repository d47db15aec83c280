"""Probation (3RO): the advice for the D&R plan and the supervision after release, and
the advice to the mayor on a BIJ notice.

Probation knows a detention by its id. The advice is requested when the municipality
first asks, and issued ``probation.advice_after`` later (three weeks by default). Which
organisation, what it advises and which special conditions are fixed per detention id.
The advice to the mayor is asked for by the notice's id and issued
``probation.mayoral_advice_after`` later (five days): a risk level and the measures
probation advises, as codes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel

from partners.deps import SimDep
from partners.state import LOCAL_TIME, share

router = APIRouter(prefix="/probation", tags=["probation (3RO)"])

ORGANISATIONS = [
    "Reclassering Nederland",
    "Leger des Heils Jeugdbescherming & Reclassering",
    "Verslavingsreclassering GGZ",
]
SPECIAL_CONDITIONS = ["reporting_obligation", "contact_ban", "area_ban", "treatment", "alcohol_ban", "electronic_tag"]

Recommendation = Literal["supervision", "no_supervision", "penitentiary_programme"]


class Advice(BaseModel):
    status: Literal["requested", "issued"]
    requested_on: date
    issued_on: date | None = None
    recommendation: Recommendation | None = None
    special_conditions: list[str] = []


class Supervision(BaseModel):
    status: Literal["none", "planned"]
    organisation: str | None = None


class ProbationView(BaseModel):
    detention_id: str
    organisation: str
    advice: Advice
    supervision: Supervision


def _local(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TIME).date()


@router.get("/detentions/{detention_id}", response_model=ProbationView)
async def read_probation(
    detention_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")], sim: SimDep
) -> ProbationView:
    """The probation advice and supervision status for a detention."""
    now = sim.clock.now()
    requested_at = sim.probation.first_asked.setdefault(detention_id, now)
    issued_at = requested_at + sim.config.probation.advice_after
    organisation = ORGANISATIONS[int(share(sim.seed, "3ro", detention_id) * len(ORGANISATIONS))]
    roll = share(sim.seed, "advice", detention_id)
    recommendation: Recommendation = (
        "supervision" if roll < 0.6 else "penitentiary_programme" if roll < 0.75 else "no_supervision"
    )
    issued = now >= issued_at
    conditions = []
    if issued and recommendation != "no_supervision":
        conditions = [c for c in SPECIAL_CONDITIONS if share(sim.seed, "condition", detention_id, c) < 0.3]
        conditions = conditions or ["reporting_obligation"]
    planned = issued and recommendation != "no_supervision"
    return ProbationView(
        detention_id=detention_id,
        organisation=organisation,
        advice=Advice(
            status="issued" if issued else "requested",
            requested_on=_local(requested_at),
            issued_on=_local(issued_at) if issued else None,
            recommendation=recommendation if issued else None,
            special_conditions=conditions,
        ),
        supervision=Supervision(
            status="planned" if planned else "none", organisation=organisation if planned else None
        ),
    )


MAYORAL_MEASURES = ["area_ban", "area_order", "contact_ban", "reporting_obligation", "monitoring"]


class MayoralAdvice(BaseModel):
    status: Literal["requested", "issued"]
    requested_on: date
    issued_on: date | None = None
    risk: Literal["low", "medium", "high"] | None = None
    advised_measures: list[str] = []


class MayoralAdviceView(BaseModel):
    notice_id: str
    organisation: str
    advice: MayoralAdvice


@router.get("/mayoral-notices/{notice_id}", response_model=MayoralAdviceView)
async def read_mayoral_advice(
    notice_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")], sim: SimDep
) -> MayoralAdviceView:
    """Probation's advice to the mayor on a BIJ notice: requested when first asked for."""
    now = sim.clock.now()
    requested_at = sim.probation.mayoral_first_asked.setdefault(notice_id, now)
    issued_at = requested_at + sim.config.probation.mayoral_advice_after
    issued = now >= issued_at
    roll = share(sim.seed, "mayoral-risk", notice_id)
    risk: Literal["low", "medium", "high"] = "low" if roll < 0.5 else "medium" if roll < 0.85 else "high"
    measures = []
    if issued and risk != "low":
        measures = [m for m in MAYORAL_MEASURES if share(sim.seed, "mayoral-measure", notice_id, m) < 0.35]
        measures = measures or ["monitoring"]
    return MayoralAdviceView(
        notice_id=notice_id,
        organisation=ORGANISATIONS[int(share(sim.seed, "3ro", notice_id) * len(ORGANISATIONS))],
        advice=MayoralAdvice(
            status="issued" if issued else "requested",
            requested_on=_local(requested_at),
            issued_on=_local(issued_at) if issued else None,
            risk=risk if issued else None,
            advised_measures=measures,
        ),
    )

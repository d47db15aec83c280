"""The municipality's income system: benefit applications (Participatiewet).

An application is received, in review after a couple of days, and decided after
``income.decision_after`` of simulated time (six weeks by default; eight is the legal
maximum). An advance can be had four weeks after the application. The caller's
``reference`` makes submitting idempotent: the same reference is the same application.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict

from partners.deps import Bsn, MunicipalityCode, Reference, SimDep, problem
from partners.state import LOCAL_TIME, Application, Simulation, share

router = APIRouter(prefix="/income", tags=["income system"])

ADVANCE_AFTER = timedelta(weeks=4)
DECISION_DUE_AFTER = timedelta(weeks=8)


class ApplicationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference: Reference
    bsn: Bsn
    municipality: MunicipalityCode
    benefit: Literal["general_assistance"] = "general_assistance"


class ApplicationStatus(BaseModel):
    id: str
    reference: str
    municipality: str
    benefit: str
    status: Literal["received", "in_review", "decided"]
    submitted_at: datetime
    advance_possible_from: date
    decision_due: date
    decision: Literal["granted", "refused"] | None = None
    decided_on: date | None = None


def _status(application: Application, now: datetime, sim: Simulation) -> ApplicationStatus:
    behaviour = sim.config.income
    submitted = application.submitted_at
    decided_at = submitted + behaviour.decision_after
    decided = now >= decided_at
    return ApplicationStatus(
        id=application.id,
        reference=application.reference,
        municipality=application.municipality,
        benefit=application.benefit,
        status="decided" if decided else "in_review" if now >= submitted + behaviour.in_review_after else "received",
        submitted_at=submitted,
        advance_possible_from=(submitted + ADVANCE_AFTER).astimezone(LOCAL_TIME).date(),
        decision_due=(submitted + DECISION_DUE_AFTER).astimezone(LOCAL_TIME).date(),
        decision=("refused" if application.refused else "granted") if decided else None,
        decided_on=decided_at.astimezone(LOCAL_TIME).date() if decided else None,
    )


@router.post("/applications", status_code=status.HTTP_201_CREATED, response_model=ApplicationStatus)
async def submit_application(request: ApplicationRequest, response: Response, sim: SimDep):
    """Submits a benefit application; the same reference again answers the same application (200)."""
    now = sim.clock.now()
    refused = share(sim.seed, "income", request.reference) < sim.config.income.refused_share
    application, created = sim.income.submit(
        reference=request.reference,
        now=now,
        refused=refused,
        bsn=request.bsn,
        municipality=request.municipality,
        benefit=request.benefit,
    )
    if not created:
        if application.bsn != request.bsn:
            return problem(409, "Conflict", "this reference was used for another application")
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/income/applications/{application.id}"
    return _status(application, now, sim)


@router.get("/applications/{application_id}", response_model=ApplicationStatus)
async def read_application(application_id: str, sim: SimDep):
    """An application's status and, once decided, its decision."""
    application = sim.income.applications.get(application_id)
    if application is None:
        return problem(404, "Not Found", "no such application")
    return _status(application, sim.clock.now(), sim)

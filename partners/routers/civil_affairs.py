"""Civil affairs: an appointment to apply for an ID document, and whether it is ready.

The first free slot is on a working day at least ``civil_affairs.first_slot_after`` from
now; the document is applied for at the appointment and ready
``civil_affairs.document_ready_after`` later (a week by default). The caller's
``reference`` makes booking idempotent.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict

from partners.deps import Bsn, MunicipalityCode, Reference, SimDep, problem
from partners.people import MUNICIPALITIES
from partners.state import LOCAL_TIME, Appointment, Simulation, next_slot, share

router = APIRouter(prefix="/civil-affairs", tags=["civil affairs"])

Document = Literal["identity_card", "passport"]


class AppointmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference: Reference
    bsn: Bsn
    municipality: MunicipalityCode
    document: Document


class AppointmentStatus(BaseModel):
    id: str
    reference: str
    municipality: str
    document: Document
    starts_at: datetime
    location: str
    document_status: Literal["awaiting_appointment", "in_production", "ready"]
    ready_on: date | None = None


def _status(appointment: Appointment, now: datetime, sim: Simulation) -> AppointmentStatus:
    ready_at = appointment.starts_at + sim.config.civil_affairs.document_ready_after
    place = MUNICIPALITIES.get(appointment.municipality)
    return AppointmentStatus(
        id=appointment.id,
        reference=appointment.reference,
        municipality=appointment.municipality,
        document=appointment.document,
        starts_at=appointment.starts_at,
        location=f"Publiekszaken {place.name if place else 'gemeente ' + appointment.municipality}",
        document_status="ready"
        if now >= ready_at
        else "in_production"
        if now >= appointment.starts_at
        else ("awaiting_appointment"),
        ready_on=ready_at.astimezone(LOCAL_TIME).date() if now >= ready_at else None,
    )


@router.post("/appointments", status_code=status.HTTP_201_CREATED, response_model=AppointmentStatus)
async def book_appointment(request: AppointmentRequest, response: Response, sim: SimDep):
    """Books the first free appointment to apply for an ID document; the same reference again answers it (200)."""
    now = sim.clock.now()
    starts_at = next_slot(now + sim.config.civil_affairs.first_slot_after, share(sim.seed, "slot", request.reference))
    appointment, created = sim.civil_affairs.book(
        reference=request.reference,
        now=now,
        starts_at=starts_at,
        bsn=request.bsn,
        municipality=request.municipality,
        document=request.document,
    )
    if not created:
        if appointment.bsn != request.bsn:
            return problem(409, "Conflict", "this reference was used for another appointment")
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/civil-affairs/appointments/{appointment.id}"
    return _status(appointment, now, sim)


@router.get("/appointments/{appointment_id}", response_model=AppointmentStatus)
async def read_appointment(appointment_id: str, sim: SimDep):
    """An appointment, and whether its document is ready."""
    appointment = sim.civil_affairs.appointments.get(appointment_id)
    if appointment is None:
        return problem(404, "Not Found", "no such appointment")
    return _status(appointment, sim.clock.now(), sim)

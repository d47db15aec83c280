"""Civil affairs: an appointment to apply for an ID document, and whether it is ready.

A valid ID is needed to apply for a benefit, and takes about a week after the
appointment. Booking carries the case's own ``reference``: a retried booking finds the
appointment it already made.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel
from temporalio import activity

from activities.partners.errors import as_activity_errors
from activities.partners.http import Answer, PartnerClient, PartnerId, Reference
from domain.models import Bsn, MunicipalityCode

Document = Literal["identity_card", "passport"]


class IdAppointmentRequest(BaseModel):
    reference: Reference
    bsn: Bsn
    municipality: MunicipalityCode
    document: Document = "identity_card"


class IdAppointment(Answer):
    id: str
    reference: str
    document: Document
    starts_at: datetime
    location: str
    document_status: Literal["awaiting_appointment", "in_production", "ready"]
    ready_on: date | None = None


class CivilAffairsClient(PartnerClient):
    partner = "civil_affairs"

    async def book(self, request: IdAppointmentRequest) -> IdAppointment:
        answer = await self._call("POST", "appointments", IdAppointment, json=request.model_dump(mode="json"))
        assert answer is not None
        return answer

    async def read(self, appointment_id: str) -> IdAppointment:
        answer = await self._call("GET", f"appointments/{appointment_id}", IdAppointment)
        assert answer is not None
        return answer


class IdAppointmentQuery(BaseModel):
    appointment_id: PartnerId


class CivilAffairsActivities:
    def __init__(self, client: CivilAffairsClient) -> None:
        self._client = client

    @activity.defn
    async def book_id_appointment(self, request: IdAppointmentRequest) -> IdAppointment:
        """Books the first free appointment to apply for an ID document; idempotent by reference."""
        with as_activity_errors():
            return await self._client.book(request)

    @activity.defn
    async def read_id_appointment(self, query: IdAppointmentQuery) -> IdAppointment:
        """The appointment, and whether the document is ready."""
        with as_activity_errors():
            return await self._client.read(query.appointment_id)

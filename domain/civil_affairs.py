"""The case's follow-up of an ID document at civil affairs (burgerzaken).

When a caseworker takes the ID document task on (claims it), the case books the first
free appointment to apply for the document (by the reference ``<case id>/<task key>``,
so a booking made again finds the same appointment), then reads once a working day in
Dutch office hours whether the document is ready. A ready document completes the task,
unless a caseworker completed it first.

When civil affairs refuses the request, or stays unavailable longer than the policy's
bound, a caseworker books the appointment by hand (``FOLLOW_UP_FAILED_EVENT``).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel

DocumentStatus = Literal["awaiting_appointment", "in_production", "ready"]
Document = Literal["identity_card", "passport"]


class IdFollowUpFailure(StrEnum):
    """Why the case stopped following the ID document: a caseworker books it by hand."""

    # No appointment could be booked within the policy's bound.
    BOOKING_UNAVAILABLE = "booking_unavailable"
    # Civil affairs refused the booking (a 4xx): booking again cannot help.
    BOOKING_REJECTED = "booking_rejected"
    # Once booked, its readiness could not be read for longer than the policy's bound.
    STATUS_UNAVAILABLE = "status_unavailable"
    # Civil affairs does not know the appointment it made (a 4xx on reading).
    STATUS_REJECTED = "status_rejected"


FAILURE_REASONS = {
    IdFollowUpFailure.BOOKING_UNAVAILABLE: "civil affairs unavailable: book the ID appointment by hand",
    IdFollowUpFailure.BOOKING_REJECTED: "civil affairs refused the request: book the ID appointment by hand",
    IdFollowUpFailure.STATUS_UNAVAILABLE: "civil affairs unavailable: follow the ID document by hand",
    IdFollowUpFailure.STATUS_REJECTED: "civil affairs does not know the appointment: book the ID appointment by hand",
}


class IdDocumentFollowUp(BaseModel):
    """The case's follow-up of one ID document: running while ``finished_at`` is not set."""

    # The ID document task it completes.
    task: str
    reference: str
    started_at: datetime
    # Booking is retried until then (the policy's bound after the claim); a run continued
    # as new retries only for what is left.
    book_until: datetime
    appointment_id: str | None = None
    appointment_at: datetime | None = None
    document: Document | None = None
    document_status: DocumentStatus | None = None
    next_read_at: datetime | None = None
    # The first failed read since the last good one: the bound counts from it.
    unavailable_since: datetime | None = None
    ready_on: date | None = None
    failure: IdFollowUpFailure | None = None
    finished_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self.finished_at is None


# The event anchor of the task a caseworker gets when the follow-up failed (``on_event``).
FOLLOW_UP_FAILED_EVENT = "id_appointment_follow_up_failed"

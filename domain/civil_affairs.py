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
from typing import Literal

from domain.follow_up import FollowUpFailure, FollowUpProgress

DocumentStatus = Literal["awaiting_appointment", "in_production", "ready"]
Document = Literal["identity_card", "passport"]


FAILURE_REASONS = {
    FollowUpFailure.REQUEST_UNAVAILABLE: "civil affairs unavailable: book the ID appointment by hand",
    FollowUpFailure.REQUEST_REJECTED: "civil affairs refused the request: book the ID appointment by hand",
    FollowUpFailure.READ_UNAVAILABLE: "civil affairs unavailable: follow the ID document by hand",
    FollowUpFailure.READ_REJECTED: "civil affairs does not know the appointment: book the ID appointment by hand",
}


class IdDocumentFollowUp(FollowUpProgress):
    """The case's follow-up of one ID document; its first request is the booking, retried
    until ``ask_until`` (the policy's bound after the claim)."""

    # The ID document task it completes.
    task: str
    reference: str
    appointment_id: str | None = None
    appointment_at: datetime | None = None
    document: Document | None = None
    document_status: DocumentStatus | None = None
    ready_on: date | None = None


# The event anchor of the task a caseworker gets when the follow-up failed (``on_event``).
FOLLOW_UP_FAILED_EVENT = "id_appointment_follow_up_failed"

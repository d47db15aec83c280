"""Where the population register (BRP, basisregistratie personen) has the person, and how
the case's check of it went.

A case asks the register once, right after the day-one notice: is the person registered
in the municipality that was notified (``registered_here``), in another one
(``registered_elsewhere``: the case is handed over), without a known address (in the
RNI, registratie niet-ingezetenen: ``no_known_address``), or not at all (``not_found``)?
When the register does not answer within the policy's ``registration_check_within``, or
refuses the request, a caseworker checks the address by hand.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel

from domain.follow_up import FollowUpFailure, FollowUpProgress

RegistrationStatus = Literal["registered_here", "registered_elsewhere", "no_known_address", "not_found"]


class Address(BaseModel):
    street: str
    house_number: int | None = None
    house_letter: str | None = None
    house_number_addition: str | None = None
    postcode: str | None = None
    place: str | None = None


class Registration(BaseModel):
    """Where the register has the person. ``registered_elsewhere`` means a transfer task."""

    status: RegistrationStatus
    municipality: str | None = None
    municipality_name: str | None = None
    registered_since: date | None = None
    address: Address | None = None


FAILURE_REASONS = {
    FollowUpFailure.REQUEST_UNAVAILABLE: "population register unavailable: check the address by hand",
    FollowUpFailure.REQUEST_REJECTED: "the population register refused the request: check the address by hand",
}


class RegistrationLookup(FollowUpProgress):
    """The case's check of the registration: one request, retried until ``ask_until`` (the
    policy's ``registration_check_within`` after the notice); the register is not read again."""

    result: Registration | None = None


# The event anchor of the task a caseworker gets when the check failed (``on_event`` in the policy).
CHECK_FAILED_EVENT = "registration_check_failed"

"""What a case records of a conversation with a partner system that it holds beside its own
loop: the population register's check, the benefit application in the income system, the
ID document at civil affairs, probation's advice for the plan.

Each conversation has the same course. An optional first request (look the person up,
submit the application, book the appointment) is retried until ``ask_until``; after it,
the partner is read once a working day in Dutch office hours until it has answered what
the case waits for. Reads that fail are made good by the next one until they have failed
for longer than the policy's bound (``unavailable_since``); a request the partner refuses
as wrong is never asked again. The conversation ends when the answer is in, when it no
longer helps the case (a caseworker was first, consent was withdrawn, the case closed),
or when it failed: then a person takes over. Each partner's own record extends
``FollowUpProgress`` with what that partner says.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, tzinfo
from enum import StrEnum

from pydantic import BaseModel


class FollowUpFailure(StrEnum):
    """How a conversation with a partner failed, whichever partner it was: each partner's
    record names the same four in its own words."""

    # The first request got no answer within the policy's bound.
    REQUEST_UNAVAILABLE = "request_unavailable"
    # The partner refused the first request as wrong (a 4xx): asking again cannot help.
    REQUEST_REJECTED = "request_rejected"
    # Reads failed for longer than the policy's bound.
    READ_UNAVAILABLE = "read_unavailable"
    # The partner refused a read as wrong (it does not know what it was asked about).
    READ_REJECTED = "read_rejected"


class FollowUpProgress(BaseModel):
    """How far one conversation got: running while ``finished_at`` is not set."""

    started_at: datetime
    # The first request is retried until then (the policy's bound after the start); a run
    # continued as new retries only for what is left. None: the partner is only read.
    ask_until: datetime | None = None
    next_read_at: datetime | None = None
    # The first failed read since the last good one: the bound counts from it.
    unavailable_since: datetime | None = None
    # Why the conversation failed, when it did: a person takes over.
    failure: FollowUpFailure | None = None
    finished_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self.finished_at is None


def next_working_day_at(after: datetime, at: time, tz: tzinfo) -> datetime:
    """The moment ``at`` (Dutch local time) on the first working day after ``after``'s day:
    partners are read once a working day, in office hours."""
    day = after.astimezone(tz).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, at, tzinfo=tz)

"""The case's follow-up of a benefit application in the municipality's income system
(Werk en Inkomen).

When the caseworker completes the application task, the case submits the application to
the income system (by the reference ``<case id>/<task key>``, so a submission made again
finds the same application), then reads its status once a working day in Dutch office
hours until it is decided. The decision completes the decision task, unless a caseworker
recorded it first. The 4-week advance and 8-week decision clocks run from the date the
caseworker recorded: the income system's answers only complete tasks.

When the income system refuses the application, or stays unavailable longer than the
policy's bound, a caseworker checks the application by hand (``FOLLOW_UP_FAILED_EVENT``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel

ApplicationStatus = Literal["received", "in_review", "decided"]
Decision = Literal["granted", "refused"]


class IncomeFollowUpFailure(StrEnum):
    """Why the case stopped following the application: a caseworker checks by hand."""

    # The application could not be submitted within the policy's bound.
    SUBMISSION_UNAVAILABLE = "submission_unavailable"
    # The income system refused the application (a 4xx): submitting again cannot help.
    SUBMISSION_REJECTED = "submission_rejected"
    # Once submitted, its status could not be read for longer than the policy's bound.
    STATUS_UNAVAILABLE = "status_unavailable"
    # The income system does not know the application it took (a 4xx on reading).
    STATUS_REJECTED = "status_rejected"


FAILURE_REASONS = {
    IncomeFollowUpFailure.SUBMISSION_UNAVAILABLE: "income system unavailable: submit the application by hand",
    IncomeFollowUpFailure.SUBMISSION_REJECTED: "the income system refused the application: check it and submit by hand",
    IncomeFollowUpFailure.STATUS_UNAVAILABLE: "income system unavailable: follow the decision by hand",
    IncomeFollowUpFailure.STATUS_REJECTED: "the income system does not know the application: check it by hand",
}


class BenefitFollowUp(BaseModel):
    """The case's follow-up of one application: running while ``finished_at`` is not set."""

    # The application task and the decision task it completes.
    application_task: str
    decision_task: str | None = None
    reference: str
    started_at: datetime
    # Submitting is retried until then (the policy's bound after the caseworker's
    # completion); a run continued as new retries only for what is left.
    submit_until: datetime
    application_id: str | None = None
    status: ApplicationStatus | None = None
    next_read_at: datetime | None = None
    # The first failed read since the last good one: the bound counts from it.
    unavailable_since: datetime | None = None
    decision: Decision | None = None
    decided_on: date | None = None
    failure: IncomeFollowUpFailure | None = None
    finished_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self.finished_at is None


# The event anchor of the task a caseworker gets when the follow-up failed (``on_event``).
FOLLOW_UP_FAILED_EVENT = "benefit_follow_up_failed"


def next_working_day_at(after: datetime, at: time, tz: tzinfo) -> datetime:
    """The moment ``at`` (Dutch local time) on the first working day after ``after``'s day:
    the income system's office reads, once a working day."""
    day = after.astimezone(tz).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, at, tzinfo=tz)

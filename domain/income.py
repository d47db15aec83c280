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

from datetime import date
from typing import Literal

from domain.follow_up import FollowUpFailure, FollowUpProgress

ApplicationStatus = Literal["received", "in_review", "decided"]
Decision = Literal["granted", "refused"]


FAILURE_REASONS = {
    FollowUpFailure.REQUEST_UNAVAILABLE: "income system unavailable: submit the application by hand",
    FollowUpFailure.REQUEST_REJECTED: "the income system refused the application: check it and submit by hand",
    FollowUpFailure.READ_UNAVAILABLE: "income system unavailable: follow the decision by hand",
    FollowUpFailure.READ_REJECTED: "the income system does not know the application: check it by hand",
}


class BenefitFollowUp(FollowUpProgress):
    """The case's follow-up of one application; its first request is the submission,
    retried until ``ask_until`` (the policy's bound after the caseworker's completion)."""

    # The application task and the decision task it completes.
    application_task: str
    decision_task: str | None = None
    reference: str
    application_id: str | None = None
    status: ApplicationStatus | None = None
    decision: Decision | None = None
    decided_on: date | None = None


# The event anchor of the task a caseworker gets when the follow-up failed (``on_event``).
FOLLOW_UP_FAILED_EVENT = "benefit_follow_up_failed"

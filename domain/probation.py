"""The case's request for probation's (3RO) advice for the D&R plan.

When the plan task is created (at the start of a case long enough for a plan), the case
asks probation for its advice, by the detention id, and reads once a working day in Dutch
office hours until it is issued (three weeks, as a rule). The issued advice is recorded in
the case: its kind, the supervision status and the special conditions, as codes. It
completes no task: the plan is the caseworker's, who agrees it with probation.

When probation refuses the request, or stays unavailable longer than the policy's bound,
the case says so in its timeline and stops asking: no task, since the caseworker meets
probation for the plan anyway and can ask for the advice there.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel

from domain.follow_up import FollowUpFailure, FollowUpProgress

AdviceKind = Literal["supervision", "programme", "none"]
SupervisionStatus = Literal["none", "planned", "active", "ended"]

# Probation's recommendation, as the case records it.
ADVICE_KINDS: dict[str, AdviceKind] = {
    "supervision": "supervision",
    "penitentiary_programme": "programme",
    "no_supervision": "none",
}


FAILURE_REASONS = {
    FollowUpFailure.READ_UNAVAILABLE: "probation unavailable: ask probation for the advice directly",
    FollowUpFailure.READ_REJECTED: "probation refused the request: ask probation for the advice directly",
}


class ProbationAdvice(FollowUpProgress):
    """Probation's advice for the plan; probation is only read, there is no first request."""

    # The plan task it is asked for.
    task: str
    requested_on: date | None = None
    issued_on: date | None = None
    kind: AdviceKind | None = None
    supervision: SupervisionStatus | None = None
    # Codes such as ``reporting_obligation`` or ``area_ban``: never free text.
    special_conditions: list[str] = []


class ProbationAdviceView(BaseModel):
    """What casework sees of the advice (never the mayor's office)."""

    requested_on: date | None = None
    issued_on: date | None = None
    kind: AdviceKind | None = None
    supervision: SupervisionStatus | None = None
    special_conditions: list[str] = []
    failure: FollowUpFailure | None = None

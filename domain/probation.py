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

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel

AdviceKind = Literal["supervision", "programme", "none"]
SupervisionStatus = Literal["none", "planned", "active", "ended"]

# Probation's recommendation, as the case records it.
ADVICE_KINDS: dict[str, AdviceKind] = {
    "supervision": "supervision",
    "penitentiary_programme": "programme",
    "no_supervision": "none",
}


class ProbationAdviceFailure(StrEnum):
    """Why the case stopped asking probation: the caseworker asks at the plan meeting."""

    # Probation did not answer for longer than the policy's bound.
    UNAVAILABLE = "unavailable"
    # Probation refused the request (a 4xx): asking again cannot help.
    REJECTED = "rejected"


FAILURE_REASONS = {
    ProbationAdviceFailure.UNAVAILABLE: "probation unavailable: ask probation for the advice directly",
    ProbationAdviceFailure.REJECTED: "probation refused the request: ask probation for the advice directly",
}


class ProbationAdvice(BaseModel):
    """Probation's advice for the plan: asked for while ``finished_at`` is not set."""

    # The plan task it is asked for.
    task: str
    started_at: datetime
    requested_on: date | None = None
    next_read_at: datetime | None = None
    # The first failed read since the last good one: the bound counts from it.
    unavailable_since: datetime | None = None
    issued_on: date | None = None
    kind: AdviceKind | None = None
    supervision: SupervisionStatus | None = None
    # Codes such as ``reporting_obligation`` or ``area_ban``: never free text.
    special_conditions: list[str] = []
    failure: ProbationAdviceFailure | None = None
    finished_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self.finished_at is None


class ProbationAdviceView(BaseModel):
    """What casework sees of the advice (never the mayor's office)."""

    requested_on: date | None = None
    issued_on: date | None = None
    kind: AdviceKind | None = None
    supervision: SupervisionStatus | None = None
    special_conditions: list[str] = []
    failure: ProbationAdviceFailure | None = None

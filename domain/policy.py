"""The policy model: task templates, deadlines and the escalation ladder, as data.

The Dutch default ships as ``default_policy.yaml`` beside this module; a municipality
points ``REENTRY_POLICY`` at its own file in the same format. A case pins the policy
it started with (the whole policy travels in the workflow input), so a running case
never changes under a deploy.
"""

from __future__ import annotations

from datetime import time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_POLICY_PATH = Path(__file__).with_name("default_policy.yaml")


class Anchor(StrEnum):
    """What a deadline is counted from."""

    NOTIFICATION = "notification"  # the moment the case started
    EXPECTED_RELEASE = "expected_release"  # moves when the release date moves
    ACTUAL_RELEASE = "actual_release"  # known only once the person is released
    TASK_COMPLETED = "task_completed"  # the date recorded when another task was done
    EVENT = "event"  # the moment the event named in ``on_event`` was recorded


class BasicCondition(StrEnum):
    """The basisvoorwaarden: what must be in order for a new start after detention."""

    ID_DOCUMENT = "id_document"
    INCOME = "income"
    HOUSING = "housing"
    WORK_DAYTIME = "work_daytime"
    CARE = "care"
    DEBTS = "debts"
    SOCIAL_NETWORK = "social_network"


OutcomeKind = Literal[
    "note",
    "contact",
    "screening",
    "plan",
    "id_document",
    "benefit_application",
    "benefit_decision",
    "advance",
]


class Stay(StrEnum):
    ANY = "any"
    LONG = "long"
    SHORT = "short"


class PolicyModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TaskTemplate(PolicyModel):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    title: str
    condition: BasicCondition | None = None
    team: str = "reintegration"
    anchor: Anchor
    anchor_task: str | None = None
    offset: timedelta = timedelta(0)
    opens_after: timedelta | None = None
    takes: timedelta = timedelta(0)
    needed_by_release: bool = False
    prerequisites: list[str] = []
    stay: Stay = Stay.ANY
    # ``moved``: a move was reported, or the population register has the person elsewhere;
    # ``registration_check_failed``: the register gave no usable answer in time;
    # ``benefit_follow_up_failed``: the income system refused the application, or did not
    # answer in time; ``id_appointment_follow_up_failed``: civil affairs refused the ID
    # appointment, or did not answer in time.
    on_event: (
        Literal["moved", "registration_check_failed", "benefit_follow_up_failed", "id_appointment_follow_up_failed"]
        | None
    ) = None
    obsolete_when_completed: list[str] = []
    outcome: OutcomeKind = "note"
    records_anchor: bool = False
    guidance: str = ""

    @model_validator(mode="after")
    def _anchor_task_given(self) -> TaskTemplate:
        if (self.anchor == Anchor.TASK_COMPLETED) != (self.anchor_task is not None):
            raise ValueError(f"{self.key}: anchor_task is needed exactly when anchor is task_completed")
        return self


class EscalationLadder(PolicyModel):
    reminder_before_due: timedelta
    coordinator_after_due: timedelta


class FollowUpFigures(PolicyModel):
    """How the case follows a partner beside its own loop (see ``domain.follow_up``)."""

    # The partner is read once a working day at this Dutch local time (office hours).
    read_at: time = time(8, 0)
    # How long the first request is retried, and how long reads may fail in a row, before
    # a person takes over.
    unavailable_within: timedelta


class IncomeFollowUp(FollowUpFigures):
    """How the case submits a benefit application to the income system and follows it;
    unavailable past the bound, a caseworker checks the application by hand."""

    unavailable_within: timedelta = timedelta(days=3)


class CivilAffairsFollowUp(FollowUpFigures):
    """How the case books the ID appointment at civil affairs and follows the document;
    unavailable past the bound, a caseworker books the appointment by hand."""

    unavailable_within: timedelta = timedelta(days=2)


class ProbationAdviceRequest(FollowUpFigures):
    """How the case asks probation for its advice for the plan; unavailable past the bound,
    the case stops asking (the caseworker asks probation directly)."""

    unavailable_within: timedelta = timedelta(days=5)


class Policy(PolicyModel):
    version: str
    short_stay_max: timedelta
    unexpected_release_margin: timedelta
    triage_within: timedelta
    escalation: EscalationLadder
    tasks: list[TaskTemplate]
    # How long a new case waits for the population register to confirm where the person
    # is registered; after that (or at once, when the register refuses the request) the
    # task on ``registration_check_failed`` opens. None: the policy does not check.
    registration_check_within: timedelta | None = None
    # Submit the benefit application to the income system and follow it until decided.
    # None: the caseworker does both by hand.
    income_follow_up: IncomeFollowUp | None = None
    # Book the ID appointment at civil affairs when a caseworker takes the ID document task
    # on, and follow it until the document is ready. None: the caseworker does both by hand.
    civil_affairs_follow_up: CivilAffairsFollowUp | None = None
    # Ask probation for its advice when the plan task is created, and record it once
    # issued. None: the caseworker asks by hand.
    probation_advice: ProbationAdviceRequest | None = None

    @model_validator(mode="after")
    def _references_known(self) -> Policy:
        keys = [t.key for t in self.tasks]
        dupes = {k for k in keys if keys.count(k) > 1}
        if dupes:
            raise ValueError(f"task keys used twice: {', '.join(sorted(dupes))}")
        known = set(keys)
        for t in self.tasks:
            for ref in [*t.prerequisites, *t.obsolete_when_completed, *filter(None, [t.anchor_task])]:
                if ref not in known:
                    raise ValueError(f"{t.key}: refers to unknown task {ref!r}")
        if self.registration_check_within is not None:
            if self.registration_check_within <= timedelta(0):
                raise ValueError("registration_check_within must be positive")
            if not any(t.on_event == "registration_check_failed" for t in self.tasks):
                raise ValueError(
                    "a policy that checks the registration needs a task on_event registration_check_failed:"
                    " without it nobody would check the address when the register does not answer"
                )
        for name in ("income_follow_up", "civil_affairs_follow_up", "probation_advice"):
            figures: FollowUpFigures | None = getattr(self, name)
            if figures is not None and figures.unavailable_within <= timedelta(0):
                raise ValueError(f"{name}.unavailable_within must be positive")
        events = {t.on_event for t in self.tasks}
        if self.income_follow_up is not None and "benefit_follow_up_failed" not in events:
            raise ValueError(
                "a policy that follows benefit applications needs a task on_event benefit_follow_up_failed:"
                " without it nobody would check an application the income system did not take"
            )
        if self.civil_affairs_follow_up is not None and "id_appointment_follow_up_failed" not in events:
            raise ValueError(
                "a policy that books ID appointments needs a task on_event id_appointment_follow_up_failed:"
                " without it nobody would book an appointment civil affairs did not make"
            )
        return self

    def template(self, key: str) -> TaskTemplate | None:
        return next((t for t in self.tasks if t.key == key), None)


def parse_policy(text: str) -> Policy:
    return Policy.model_validate(yaml.safe_load(text))


def load_policy(path: Path | None = None) -> Policy:
    """Read and validate a policy file; the Dutch default when no path is given."""
    return parse_policy((path or DEFAULT_POLICY_PATH).read_text(encoding="utf-8"))

"""The policy model: task templates, deadlines and the escalation ladder, as data.

The Dutch default ships as ``default_policy.yaml`` beside this module; a municipality
points ``REENTRY_POLICY`` at its own file in the same format. A case pins the policy
it started with (the whole policy travels in the workflow input), so a running case
never changes under a deploy.
"""

from __future__ import annotations

from datetime import timedelta
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
    on_event: Literal["moved"] | None = None
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


class Policy(PolicyModel):
    version: str
    short_stay_max: timedelta
    unexpected_release_margin: timedelta
    triage_within: timedelta
    escalation: EscalationLadder
    tasks: list[TaskTemplate]

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
        return self

    def template(self, key: str) -> TaskTemplate | None:
        return next((t for t in self.tasks if t.key == key), None)


def parse_policy(text: str) -> Policy:
    return Policy.model_validate(yaml.safe_load(text))


def load_policy(path: Path | None = None) -> Policy:
    """Read and validate a policy file; the Dutch default when no path is given."""
    return parse_policy((path or DEFAULT_POLICY_PATH).read_text(encoding="utf-8"))

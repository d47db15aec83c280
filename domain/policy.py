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
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

DEFAULT_POLICY_PATH = Path(__file__).with_name("default_policy.yaml")

# Validation context of a policy loaded for new cases (``parse_policy``), not one a running
# case has pinned: what was added to the checks later is checked on loading only, so a
# running case's policy always reads back as it was started with.
LOADING_CONTEXT = {"loading": True}


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


TaskKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class TaskRoles(PolicyModel):
    """The tasks the case itself follows, by the part each plays: which one moves the
    phase on, which one an event from a partner completes, which one closes the case.

    Each names exactly one task of the policy; a policy whose roles name a task it does
    not have does not load. Left out, a role names the task of the Dutch default (as in
    every policy before roles existed, so cases pinned to one run as they always did).
    Checked on loading only: a case pinned to an override from before the check, one
    that lacks a role's task, runs on as it did.
    """

    first_contact: TaskKey = Field(
        "contact_prison",
        description="marks the first contact with the prison (phase tracking: done, the case moves to planning)",
    )
    screening: TaskKey = Field(
        "screening",
        description="is the screening of the basic conditions (a screening a partner records completes it)",
    )
    plan: TaskKey = Field(
        "reintegration_plan",
        description=(
            "is the D&R plan (phase tracking: done, a long stay moves to preparing release;"
            " a plan a partner reports agreed completes it)"
        ),
    )
    short_stay_triage: TaskKey = Field(
        "short_stay_triage",
        description="is the triage of a short stay (phase tracking: done, a short stay moves to preparing release)",
    )
    handover: TaskKey = Field(
        "transfer",
        description="hands the case over after a move (done, the case closes as moved)",
    )


# What the case does with a role's task that needs more of the task than its existence.
ROLE_OUTCOME: dict[str, OutcomeKind] = {"screening": "screening", "plan": "plan"}
ROLE_EVENT: dict[str, str] = {"handover": "moved"}


class TaskTemplate(PolicyModel):
    key: TaskKey
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


# ---------------------------------------------------------------------------
# The mayor's track (BIJ): the Handelingskader BIJ as the mayor's office's playbook.


class MayoralAnchor(StrEnum):
    """What a deadline of the mayor's track is counted from."""

    NOTICE = "notice"  # the moment the notice was received
    DATE = "date"  # the day of the return, or the first day of the leave; moves when it moves
    END = "end"  # the day of the return, or the last day of the leave: what is evaluated after
    EVENT = "event"  # the moment the event in ``on_event`` was recorded


class MayoralCondition(StrEnum):
    """When a task of the mayor's track applies; a template applies when all of its hold."""

    UNREST_EXPECTED = "unrest_expected"  # the notice says public unrest is expected
    MEASURES = "measures"  # the risk assessment decided that measures are needed
    RETURN = "return"
    LEAVE = "leave"


MayoralOutcomeKind = Literal["note", "notice_registered", "information", "assessment", "measures"]
MunicipalityPattern = Annotated[str, Field(pattern=r"^[0-9]{4}$")]


class MayoralTaskTemplate(PolicyModel):
    key: TaskKey
    title: str
    # The team of the mayor's office that does it; None: the track's own team.
    team: str | None = None
    anchor: MayoralAnchor
    offset: timedelta = timedelta(0)
    # Created only this long after its anchor (the evaluation, after the date).
    opens_after: timedelta | None = None
    prerequisites: list[str] = []
    when: list[MayoralCondition] = []
    # ``probation_advice_failed``: probation gave no advice to the mayor within the bound.
    on_event: Literal["probation_advice_failed"] | None = None
    outcome: MayoralOutcomeKind = "note"
    guidance: str = ""

    @model_validator(mode="after")
    def _event_anchored(self) -> MayoralTaskTemplate:
        if (self.anchor == MayoralAnchor.EVENT) != (self.on_event is not None):
            raise ValueError(f"{self.key}: on_event is needed exactly when anchor is event")
        return self


class MayoralProbationAdvice(FollowUpFigures):
    """How the mayor's track asks probation for its advice to the mayor; unavailable past
    the bound, the mayor's office asks by hand (the task on ``probation_advice_failed``)."""

    unavailable_within: timedelta = timedelta(days=3)


class MayoralPolicy(PolicyModel):
    """The mayor's track: its team, its ladder, its playbook, and the municipalities' choices."""

    team: str = "openbare-orde"
    # The notice time the playbook is written for. A notice that comes with less (a leave
    # a few days ahead) gets the same steps compressed into the time there is, in order.
    full_notice: timedelta = timedelta(days=28)
    # A reminder before the due date; at it the public-order coordinator hears; this long
    # after it the mayor's chief of staff.
    escalation: EscalationLadder
    # Municipalities that chose to act only on notices where public unrest is expected:
    # their other notices are recorded as received and filtered, counted, and erased.
    only_unrest_expected: list[MunicipalityPattern] = []
    # Whether casework may see that a notice exists for a case (never what it says).
    casework_sees_notice: bool = False
    # Ask probation for its advice to the mayor, and record it as codes. None: by hand.
    probation_advice: MayoralProbationAdvice | None = None
    tasks: list[MayoralTaskTemplate]

    @model_validator(mode="after")
    def _playbook_complete(self) -> MayoralPolicy:
        keys = [t.key for t in self.tasks]
        dupes = {k for k in keys if keys.count(k) > 1}
        if dupes:
            raise ValueError(f"mayoral: task keys used twice: {', '.join(sorted(dupes))}")
        for t in self.tasks:
            for ref in t.prerequisites:
                if ref not in keys:
                    raise ValueError(f"mayoral: {t.key}: refers to unknown task {ref!r}")
        outcomes = [t.outcome for t in self.tasks]
        for needed, why in (
            ("notice_registered", "registers the notice and says whether it concerns the municipality"),
            ("assessment", "assesses the risk to public order"),
        ):
            if outcomes.count(needed) != 1:
                raise ValueError(f"mayoral: the playbook needs exactly one task with outcome: {needed}, which {why}")
        if self.full_notice <= timedelta(0):
            raise ValueError("mayoral.full_notice must be positive")
        if self.probation_advice is not None:
            if self.probation_advice.unavailable_within <= timedelta(0):
                raise ValueError("mayoral.probation_advice.unavailable_within must be positive")
            if not any(t.on_event == "probation_advice_failed" for t in self.tasks):
                raise ValueError(
                    "mayoral: a playbook that asks probation needs a task on_event probation_advice_failed:"
                    " without it nobody would ask for the advice when probation does not answer"
                )
        return self

    def template(self, key: str) -> MayoralTaskTemplate | None:
        return next((t for t in self.tasks if t.key == key), None)


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
    # Which task plays which part in the case's own course (see ``TaskRoles``).
    roles: TaskRoles = TaskRoles()
    # The mayor's track (BIJ); None: the municipality receives no mayoral notices here.
    mayoral: MayoralPolicy | None = None

    @model_validator(mode="after")
    def _references_known(self, info: ValidationInfo) -> Policy:
        keys = [t.key for t in self.tasks]
        dupes = {k for k in keys if keys.count(k) > 1}
        if dupes:
            raise ValueError(f"task keys used twice: {', '.join(sorted(dupes))}")
        known = set(keys)
        for t in self.tasks:
            for ref in [*t.prerequisites, *t.obsolete_when_completed, *filter(None, [t.anchor_task])]:
                if ref not in known:
                    raise ValueError(f"{t.key}: refers to unknown task {ref!r}")
        if info.context and info.context.get("loading"):
            self._roles_known()
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

    def _roles_known(self) -> None:
        """Each role names a task of this policy, one the case can use that way."""
        for role, field in TaskRoles.model_fields.items():
            key = getattr(self.roles, role)
            template = self.template(key)
            if template is None:
                raise ValueError(
                    f"the policy has no task {key!r}, which {field.description}:"
                    f" rename it back, or name the task that does under roles: {role}"
                )
            if role in ROLE_OUTCOME and template.outcome != ROLE_OUTCOME[role]:
                raise ValueError(
                    f"roles.{role}: task {key!r}, which {field.description},"
                    f" needs outcome: {ROLE_OUTCOME[role]}, not {template.outcome}"
                )
            if role in ROLE_EVENT and template.on_event != ROLE_EVENT[role]:
                raise ValueError(
                    f"roles.{role}: task {key!r}, which {field.description},"
                    f" needs on_event: {ROLE_EVENT[role]}: it opens when the move is known"
                )

    def template(self, key: str) -> TaskTemplate | None:
        return next((t for t in self.tasks if t.key == key), None)


def parse_policy(text: str) -> Policy:
    """Read and validate a policy for new cases, with every check."""
    return Policy.model_validate(yaml.safe_load(text), context=LOADING_CONTEXT)


def load_policy(path: Path | None = None) -> Policy:
    """Read and validate a policy file; the Dutch default when no path is given."""
    return parse_policy((path or DEFAULT_POLICY_PATH).read_text(encoding="utf-8"))


def _relative(offset: timedelta) -> str:
    days = abs(offset.days)
    amount = f"{days // 7} weeks" if days % 7 == 0 and days else f"{days} days"
    return "on the release day" if days == 0 else f"{amount} {'before' if offset.days < 0 else 'after'} the release"


def chain_warnings(policy: Policy) -> list[str]:
    """Prerequisites whose own deadline is later than the tasks that need them allow, where
    both count from the release: the case plans them earlier (``domain.planning``), but
    the policy should say what the plan does."""
    by_key = {template.key: template for template in policy.tasks}

    def chain(template: TaskTemplate, seen: frozenset[str]) -> timedelta | None:
        """When a task must be done, relative to the release, for itself and its dependents."""
        latest = template.offset if template.anchor == Anchor.EXPECTED_RELEASE else None
        if template.needed_by_release and (latest is None or latest > timedelta(0)):
            latest = timedelta(0)
        for dependent in policy.tasks:
            if template.key in dependent.prerequisites and dependent.key not in seen:
                needed = chain(dependent, seen | {template.key})
                if needed is not None and (latest is None or needed - dependent.takes < latest):
                    latest = needed - dependent.takes
        return latest

    warnings = []
    for dependent in policy.tasks:
        needed = chain(dependent, frozenset())
        if needed is None:
            continue
        for key in dependent.prerequisites:
            prerequisite = by_key.get(key)
            if prerequisite is None or prerequisite.anchor != Anchor.EXPECTED_RELEASE:
                continue
            if prerequisite.offset > needed - dependent.takes:
                warnings.append(
                    f"{prerequisite.key} is due {_relative(prerequisite.offset)}, but {dependent.key} needs it done"
                    f" {_relative(needed - dependent.takes)}: cases plan it then"
                )
    return warnings

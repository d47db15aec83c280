"""The mayor's track (BIJ, Bestuurlijke Informatievoorziening Justitiabelen).

The mayor is told in advance of the return, or the leave, of a person finally convicted of
a serious violent or sexual offence (also under a TBS or PIJ measure), to judge whether it
threatens public order and to prepare measures. It is a process of its own, for its own
purpose, with its own data: one notice, one workflow (``bij-<notice id>``), read and worked
only by the mayor's office. Nothing here reaches the aftercare case, and nothing of the case
reaches here.

The playbook is the policy's ``mayoral`` section (the Handelingskader BIJ's steps). Its
deadlines count from the notice, from the date of the return or leave, or from its end.
The playbook is written for ``full_notice`` (four weeks); a notice that comes with less
gets the same steps compressed into the time there is, in their order, so that a leave
told five days ahead has a plan it can still meet rather than deadlines already past.

The notice's personal and detention data is erased at the latest six months after the
return, or after the leave ended; what stays is anonymous: the kind, the municipality, the
month, whether it was assessed before its date, and the measures decided by type.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from domain.follow_up import FollowUpFailure, FollowUpProgress
from domain.models import (
    ESCALATION_ORDER,
    Actor,
    Code,
    Day,
    DetentionId,
    EscalationLevel,
    Flag,
    HistoryEntry,
    MunicipalityCode,
    Name,
    Note,
    NoteOutcome,
    Notification,
    Person,
    Strict,
    Task,
    TaskStatus,
    as_datetime,
)
from domain.policy import MayoralAnchor, MayoralCondition, MayoralOutcomeKind, MayoralPolicy, MayoralTaskTemplate

NOTICE_ID_PREFIX = "bij-"
NOTICE_ID_PATTERN = re.compile(r"^bij-[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
NoticeId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")]


def notice_workflow_id(notice_id: str) -> str:
    """The workflow id of a mayoral notice: pseudonymous, never a name or BSN."""
    return f"{NOTICE_ID_PREFIX}{notice_id}"


class NoticeKind(StrEnum):
    RETURN = "return"
    LEAVE = "leave"


class SeriousOffence(StrEnum):
    VIOLENT = "violent"
    SEXUAL = "sexual"


class JudicialMeasure(StrEnum):
    NONE = "none"
    TBS = "tbs"  # terbeschikkingstelling: a hospital order
    PIJ = "pij"  # a placement in a juvenile institution


class NoticeStatus(StrEnum):
    OPEN = "open"  # the mayor's office is working on it
    FILTERED = "filtered"  # received and recorded, not acted on: the municipality's choice
    CLOSED = "closed"


class NoticeClosedReason(StrEnum):
    EVALUATED = "evaluated"  # every step done, the evaluation after the date too
    NOT_CONCERNED = "not_concerned"  # the notice does not concern this municipality
    LEAVE_CANCELLED = "leave_cancelled"
    RE_DETAINED = "re_detained"
    FILTERED = "filtered"  # the municipality acts only where unrest is expected
    ERASED = "erased"  # its term ended before it closed


class MayoralNotice(Strict):
    """The justice information service's notice to the mayor of a return or a leave."""

    notice_id: NoticeId
    kind: NoticeKind
    detention_id: DetentionId
    person: Person
    municipality: MunicipalityCode
    prison: Code
    # The day of the return, or the first day of the leave; a leave also has its last day.
    starts_on: Day
    ends_on: Day | None = None
    offence_category: SeriousOffence
    measure: JudicialMeasure = JudicialMeasure.NONE
    unrest_expected: Flag = False

    @model_validator(mode="after")
    def _dates_fit_the_kind(self) -> MayoralNotice:
        if self.kind == NoticeKind.LEAVE:
            if self.ends_on is None:
                raise ValueError("a leave has ends_on, its last day")
            if self.ends_on < self.starts_on:
                raise ValueError("ends_on is before starts_on")
        elif self.ends_on is not None:
            raise ValueError("a return has no ends_on")
        if self.person.birth_date >= self.starts_on:
            raise ValueError("person.birth_date must be before starts_on")
        return self

    @property
    def workflow_id(self) -> str:
        return notice_workflow_id(self.notice_id)


# ---------------------------------------------------------------------------
# What the mayor's office records when it completes a step


class NoticeRegistered(Strict):
    kind: Literal["notice_registered"] = "notice_registered"
    # Whether the person returns to (or spends the leave in) this municipality.
    concerns_municipality: Flag
    note: Note | None = None


class InformationGathered(Strict):
    kind: Literal["information"] = "information"
    probation_consulted: Flag
    police_consulted: Flag
    victims_nearby: Literal["yes", "no", "unknown"]
    note: Note | None = None


class RiskAssessed(Strict):
    kind: Literal["assessment"] = "assessment"
    decision: Literal["no_action", "monitor", "measures"]
    reasons: Annotated[Note, Field(min_length=1)]


MeasureType = Literal["area_ban", "area_order", "restraining_order", "other"]


class Measure(Strict):
    """One measure the mayor decides: a gebiedsverbod, a gebiedsgebod, a tijdelijk huisverbod, or another."""

    type: MeasureType
    starts_on: Day
    ends_on: Day | None = None
    # The area of a ban or an order (streets, a neighbourhood), in the mayor's words.
    area: Name | None = None
    description: Note | None = None

    @model_validator(mode="after")
    def _complete(self) -> Measure:
        if self.type in ("area_ban", "area_order") and self.area is None:
            raise ValueError(f"an {self.type} needs the area it applies to")
        if self.type == "other" and not self.description:
            raise ValueError("another measure needs a description")
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        return self


class MeasuresDecided(Strict):
    kind: Literal["measures"] = "measures"
    measures: Annotated[list[Measure], Field(min_length=1, max_length=10)]


MayoralOutcome = Annotated[
    NoteOutcome | NoticeRegistered | InformationGathered | RiskAssessed | MeasuresDecided,
    Field(discriminator="kind"),
]


class MayoralTask(Task):
    outcome_kind: MayoralOutcomeKind = "note"  # type: ignore[assignment]
    outcome: MayoralOutcome | None = None  # type: ignore[assignment]


# ---------------------------------------------------------------------------
# Probation's advice to the mayor


ProbationRisk = Literal["low", "medium", "high"]

MAYORAL_ADVICE_FAILURE_REASONS = {
    FollowUpFailure.READ_UNAVAILABLE: "probation unavailable: ask probation for its advice to the mayor by hand",
    FollowUpFailure.READ_REJECTED: "probation does not know the notice: ask probation for its advice by hand",
}


class MayoralAdvice(FollowUpProgress):
    """Probation's advice to the mayor on a notice, read until issued; codes only."""

    requested_on: date | None = None
    issued_on: date | None = None
    risk: ProbationRisk | None = None
    # Codes such as ``area_ban``, ``contact_ban``, ``reporting_obligation``: never free text.
    advised_measures: list[str] = []


# ---------------------------------------------------------------------------
# Events


class DateChanged(Strict):
    type: Literal["date_changed"] = "date_changed"
    starts_on: Day
    ends_on: Day | None = None


class LeaveCancelled(Strict):
    type: Literal["leave_cancelled"] = "leave_cancelled"


class Returned(Strict):
    type: Literal["returned"] = "returned"
    returned_on: Day


class NoticeReDetained(Strict):
    type: Literal["re_detained"] = "re_detained"


MayoralEvent = Annotated[DateChanged | LeaveCancelled | Returned | NoticeReDetained, Field(discriminator="type")]


class MayoralEventInput(Strict):
    actor: Actor
    event: MayoralEvent


class CompleteNoticeTaskInput(Strict):
    task_key: str
    actor: Actor
    outcome: MayoralOutcome | None = None


class EraseNoticeInput(BaseModel):
    actor: str


class NoticeErasure(BaseModel):
    workflow_id: str
    run_id: str


# ---------------------------------------------------------------------------
# The notice's state


class NoticeState(BaseModel):
    """All state of a notice, in one model so that continue-as-new can carry it whole.

    ``notice`` is None once erased; what is kept beside it is anonymous and counts."""

    workflow_id: str
    revision: int = 0
    notice: MayoralNotice | None
    policy: MayoralPolicy
    policy_version: str
    status: NoticeStatus = NoticeStatus.OPEN
    received_at: datetime
    kind: NoticeKind
    municipality: str
    starts_on: Day
    ends_on: Day | None = None
    unrest_expected: bool = False
    # The playbook was compressed into less notice than it is written for.
    compressed: bool = False
    tasks: list[MayoralTask] = []
    anchors: dict[str, datetime] = {}
    history: list[HistoryEntry] = []
    notifications: list[Notification] = []
    returned_on: Day | None = None
    closed_reason: NoticeClosedReason | None = None
    closed_at: datetime | None = None
    # Anonymous, kept after erasure: when the risk was assessed, what was decided, and the
    # types of the measures.
    assessed_at: datetime | None = None
    decision: Literal["no_action", "monitor", "measures"] | None = None
    measure_types: list[MeasureType] = []
    probation_advice: MayoralAdvice | None = None
    notices_received: int = 0
    erased_at: datetime | None = None
    projected_revision: int = -1
    projected_history: int = 0
    projected_notifications: int = 0

    def task(self, key: str) -> MayoralTask | None:
        return next((t for t in self.tasks if t.key == key), None)

    @property
    def closed(self) -> bool:
        return self.status != NoticeStatus.OPEN

    @property
    def overdue_count(self) -> int:
        return sum(1 for t in self.tasks if t.status == TaskStatus.OPEN and t.overdue)

    @property
    def erase_from(self) -> Day:
        """The day the term of erasure counts from: the return, or the end of the leave."""
        return self.ends_on if self.kind == NoticeKind.LEAVE and self.ends_on else self.starts_on

    def consent_withdrawn(self, condition: object) -> bool:
        # The mayor's track needs no consent: it is a legal duty, not support.
        return False


class StartNoticeInput(BaseModel):
    notice: MayoralNotice
    policy: MayoralPolicy
    policy_version: str
    state: NoticeState | None = None


class NoticeReceipt(BaseModel):
    notice_id: str
    created: bool


class NoticeSummary(BaseModel):
    notice_id: str
    status: NoticeStatus
    revision: int
    closed_reason: NoticeClosedReason | None = None


# ---------------------------------------------------------------------------
# Planning: which steps apply, when they are due, the ladder


def event_anchor_key(event: str) -> str:
    return f"event:{event}"


def _planned_due(state: NoticeState, template: MayoralTaskTemplate) -> datetime | None:
    match template.anchor:
        case MayoralAnchor.NOTICE:
            start: datetime | None = state.received_at
        case MayoralAnchor.DATE:
            start = as_datetime(state.starts_on)
        case MayoralAnchor.END:
            start = as_datetime(state.ends_on or state.returned_on or state.starts_on)
        case MayoralAnchor.EVENT:
            start = state.anchors.get(event_anchor_key(template.on_event or ""))
    return start + template.offset if start is not None else None


def due_for(state: NoticeState, template: MayoralTaskTemplate) -> datetime | None:
    """A step's due date: as the playbook says when there is full notice; compressed into
    the time between the notice and the date when there is less, keeping the steps' order.

    The playbook's course of ``full_notice`` (from the notice to the date) is laid over the
    time there is: a step planned a quarter into that course is due a quarter into the
    time between the notice and the date. Steps after the date, and steps on an event,
    are not compressed.
    """
    planned = _planned_due(state, template)
    if planned is None:
        return None
    date_at = as_datetime(state.starts_on)
    full = state.policy.full_notice
    lead = date_at - state.received_at
    if template.anchor in (MayoralAnchor.EVENT, MayoralAnchor.END) or lead >= full:
        return planned
    course_starts = state.received_at if template.anchor == MayoralAnchor.NOTICE else date_at - full
    share = min(full, max(timedelta(0), planned - course_starts)) / full
    return state.received_at + max(timedelta(0), lead) * share


def is_compressed(state: NoticeState) -> bool:
    return as_datetime(state.starts_on) - state.received_at < state.policy.full_notice


def _holds(state: NoticeState, condition: MayoralCondition) -> bool:
    match condition:
        case MayoralCondition.UNREST_EXPECTED:
            return state.unrest_expected
        case MayoralCondition.MEASURES:
            return state.decision == "measures"
        case MayoralCondition.RETURN:
            return state.kind == NoticeKind.RETURN
        case MayoralCondition.LEAVE:
            return state.kind == NoticeKind.LEAVE


def _applies(state: NoticeState, template: MayoralTaskTemplate, now: datetime) -> bool:
    if state.closed or not all(_holds(state, c) for c in template.when):
        return False
    if template.anchor == MayoralAnchor.EVENT and event_anchor_key(template.on_event or "") not in state.anchors:
        return False
    if template.opens_after is not None:
        start = _planned_due(state, template)
        if start is None or now < start - template.offset + template.opens_after:
            return False
    return True


def materialize_tasks(state: NoticeState, now: datetime) -> list[MayoralTask]:
    created = []
    for template in state.policy.tasks:
        if state.task(template.key) is None and _applies(state, template, now):
            task = MayoralTask(
                key=template.key,
                title=template.title,
                team=template.team or state.policy.team,
                due=due_for(state, template),
                prerequisites=[k for k in template.prerequisites],
                outcome_kind=template.outcome,
                created_at=now,
                guidance=template.guidance,
            )
            state.tasks.append(task)
            created.append(task)
    return created


def open_tasks(state: NoticeState) -> list[MayoralTask]:
    return [t for t in state.tasks if t.status == TaskStatus.OPEN]


def reschedule(state: NoticeState) -> None:
    """Move every open step with the date (a date that moved, a return that happened)."""
    state.compressed = is_compressed(state)
    for task in open_tasks(state):
        template = state.policy.template(task.key)
        if template is not None:
            task.due = due_for(state, template)


def retire_obsolete(state: NoticeState, now: datetime) -> list[MayoralTask]:
    """Open steps whose condition no longer holds: measures after an assessment that
    decided none."""
    retired = []
    for task in open_tasks(state):
        template = state.policy.template(task.key)
        if template is not None and not all(_holds(state, c) for c in template.when):
            task.status, task.completed_at, task.overdue = TaskStatus.NOT_APPLICABLE, now, False
            retired.append(task)
    return retired


# At the due date the public-order coordinator hears; after the ladder's interval, the
# mayor's chief of staff.
MAYORAL_RECIPIENT = {
    EscalationLevel.REMINDER: "assignee",
    EscalationLevel.SUPERVISOR: "public_order_coordinator",
    EscalationLevel.COORDINATOR: "chief_of_staff",
}


def escalate(state: NoticeState, now: datetime) -> list[Notification]:
    """Bring each open step to its rung of the ladder; the notifications to send (the
    highest new rung only, as for cases)."""
    ladder = state.policy.escalation
    notifications = []
    for task in open_tasks(state):
        task.overdue = task.due is not None and now >= task.due
        target = EscalationLevel.NONE
        if task.due is not None:
            if now >= task.due + ladder.coordinator_after_due:
                target = EscalationLevel.COORDINATOR
            elif now >= task.due:
                target = EscalationLevel.SUPERVISOR
            elif now >= task.due - ladder.reminder_before_due:
                target = EscalationLevel.REMINDER
        if task.due is not None and ESCALATION_ORDER.index(target) > ESCALATION_ORDER.index(task.escalation_level):
            recipient = MAYORAL_RECIPIENT[target]
            if target == EscalationLevel.REMINDER and task.assignee is None:
                recipient = "team"
            notifications.append(
                Notification(
                    notification_id=f"{state.workflow_id}/{task.key}/{target.value}/{task.due.isoformat()}",
                    case_id=state.workflow_id,
                    municipality=state.municipality,
                    task_key=task.key,
                    level=target,
                    recipient_role=recipient,
                    team=task.team,
                    assignee=task.assignee,
                    due=task.due,
                )
            )
        task.escalation_level = target
    return notifications


def finished(state: NoticeState, now: datetime) -> bool:
    """Every step that applies is done, and none is still to come (the evaluation)."""
    if open_tasks(state):
        return False
    pending = [
        t
        for t in state.policy.tasks
        if state.task(t.key) is None and all(_holds(state, c) for c in t.when) and t.anchor != MayoralAnchor.EVENT
    ]
    return not pending


def next_wake(state: NoticeState, now: datetime) -> datetime | None:
    ladder = state.policy.escalation
    moments: list[datetime] = []
    for task in open_tasks(state):
        if task.due is not None:
            moments += [task.due - ladder.reminder_before_due, task.due, task.due + ladder.coordinator_after_due]
    for template in state.policy.tasks:
        if template.opens_after is not None and state.task(template.key) is None:
            planned = _planned_due(state, template)
            if planned is not None:
                moments.append(planned - template.offset + template.opens_after)
    future = [m for m in moments if m > now]
    return min(future) if future else None


# ---------------------------------------------------------------------------
# What the read model is told of a notice: no person, no free text


class NoticeProjection(BaseModel):
    workflow_id: str
    # None once erased: the read model's row then gets an id of its own.
    notice_id: str | None
    detention_id: str | None
    revision: int
    municipality: str
    kind: NoticeKind
    status: NoticeStatus
    closed_reason: NoticeClosedReason | None = None
    closed_at: datetime | None = None
    received_at: datetime
    starts_on: date
    ends_on: date | None = None
    offence_category: SeriousOffence | None = None
    measure: JudicialMeasure | None = None
    unrest_expected: bool
    compressed: bool
    decision: str | None = None
    assessed_at: datetime | None = None
    assessed_before_date: bool | None = None
    measure_types: list[str] = []
    open_tasks: int
    overdue_count: int
    policy_version: str


def project_notice(state: NoticeState) -> NoticeProjection:
    notice = state.notice
    return NoticeProjection(
        workflow_id=state.workflow_id,
        notice_id=notice.notice_id if notice else None,
        detention_id=notice.detention_id if notice else None,
        revision=state.revision,
        municipality=state.municipality,
        kind=state.kind,
        status=state.status,
        closed_reason=state.closed_reason,
        closed_at=state.closed_at,
        received_at=state.received_at,
        starts_on=state.starts_on,
        ends_on=state.ends_on,
        offence_category=notice.offence_category if notice else None,
        measure=notice.measure if notice else None,
        unrest_expected=state.unrest_expected,
        compressed=state.compressed,
        decision=state.decision,
        assessed_at=state.assessed_at,
        assessed_before_date=(None if state.assessed_at is None else state.assessed_at < as_datetime(state.starts_on)),
        measure_types=list(state.measure_types),
        open_tasks=len(open_tasks(state)),
        overdue_count=state.overdue_count,
        policy_version=state.policy_version,
    )

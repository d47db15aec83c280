"""Case, task and event models shared by the workflow, the activities and the API.

Every model that crosses a Temporal boundary is a pydantic model, so fields can be
added later without breaking running cases: give every new field a default.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    field_validator,
    model_validator,
)
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.nl import bsn as stdnum_bsn

from domain.civil_affairs import IdDocumentFollowUp
from domain.income import BenefitFollowUp
from domain.municipalities import successor
from domain.policy import BasicCondition, OutcomeKind, Policy
from domain.probation import ProbationAdvice
from domain.registration import RegistrationLookup


class Phase(StrEnum):
    """Where a case stands in the course from notification to aftercare."""

    NOTIFIED = "notified"
    PLANNING = "planning"
    PREPARING_RELEASE = "preparing_release"
    RELEASED = "released"
    CLOSED = "closed"


class ClosedReason(StrEnum):
    AFTERCARE_COMPLETED = "aftercare_completed"
    RE_DETAINED = "re_detained"
    MOVED = "moved"
    DECLINED = "declined"
    DECEASED = "deceased"
    OTHER = "other"


class ScreeningStatus(StrEnum):
    IN_ORDER = "in_order"
    NEEDS_ACTION = "needs_action"
    UNKNOWN = "unknown"
    NO_CONSENT = "no_consent"


class TaskStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NOT_APPLICABLE = "not_applicable"


class OffenceCategory(StrEnum):
    PROPERTY = "property"
    VIOLENT = "violent"
    SEXUAL = "sexual"
    DRUGS = "drugs"
    TRAFFIC = "traffic"
    OTHER = "other"


class EscalationLevel(StrEnum):
    """Rungs of the escalation ladder, in order."""

    NONE = "none"
    REMINDER = "reminder"
    SUPERVISOR = "supervisor"
    COORDINATOR = "coordinator"


ESCALATION_ORDER = list(EscalationLevel)

# ---------------------------------------------------------------------------
# Input validation helpers


def _valid_bsn(value: str) -> str:
    try:
        return stdnum_bsn.validate(value)
    except StdnumValidationError:
        # The message names the rule, never the number itself.
        raise ValueError("not a valid BSN: it must be 9 digits that pass the 11-check") from None


# Characters no input may hold, in any field: control characters (NUL, ANSI escapes and
# the like) and the marks that reorder text on screen (bidirectional overrides and
# isolates), with which a name can be made to read as another. Free text keeps tabs and
# line breaks; a name or an identifier is one line.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAK = re.compile(r"[\t\n\r\u2028\u2029]")


def _printable(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("holds a control or text-direction character")
    return value


def _one_line(value: str) -> str:
    if _LINE_BREAK.search(value):
        raise ValueError("must be one line: no tab or line break")
    return _printable(value)


def _iso_day(value: object) -> object:
    """A date is a date or its ISO text (YYYY-MM-DD), never a number or a timestamp."""
    if isinstance(value, datetime) or not isinstance(value, date | str):
        raise ValueError("a date is written YYYY-MM-DD")
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


Bsn = Annotated[str, StringConstraints(strip_whitespace=True, max_length=11), AfterValidator(_valid_bsn)]
# A municipality by its CBS code; a merged municipality's code stands for its successor's.
MunicipalityCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$"), AfterValidator(successor)]
DetentionId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(_one_line)]
Actor = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(_one_line)
]
# Whom a task is given to: a user name, also the local part of their mail address.
Assignee = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
Note = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_printable)]
# A yes or no is true or false, never "yes", 1 or "false".
Flag = StrictBool
# A date a person or a prison can mean: anything else is a typo or an attack.
Day = Annotated[date, BeforeValidator(_iso_day), Field(ge=date(1900, 1, 1), le=date(2199, 12, 31))]

# Dutch municipalities count days in Dutch time. Loaded once at import, outside the
# workflow sandbox; inside it only converts.
LOCAL_TIME = ZoneInfo("Europe/Amsterdam")

CASE_ID_PREFIX = "case-"
CASE_ID_PATTERN = re.compile(r"^case-[A-Za-z0-9][A-Za-z0-9-]{0,63}$")


def case_id_for(detention_id: str) -> str:
    """The workflow id of a detention episode: pseudonymous, never a name or BSN."""
    return f"{CASE_ID_PREFIX}{detention_id}"


class Strict(BaseModel):
    """Input from outside: unknown fields are an error, not silently dropped, and no text in
    it holds a control or text-direction character, whatever its field."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        _check_text(value)
        return value


def _check_text(value: object) -> None:
    if isinstance(value, str):
        _printable(value)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _check_text(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)


# ---------------------------------------------------------------------------
# The day-one notice


class Person(Strict):
    bsn: Bsn
    given_names: Name
    surname: Name
    birth_date: Day

    @model_validator(mode="after")
    def _birth_date_in_range(self) -> Person:
        if not date(1900, 1, 1) <= self.birth_date <= date(2100, 1, 1):
            raise ValueError("birth_date is out of range")
        return self


class DetentionNotice(Strict):
    """The prison service's notice on the first day of detention."""

    detention_id: DetentionId
    person: Person
    municipality: MunicipalityCode
    prison: Code
    detention_start: Day
    expected_release: Day | None = None
    # None once erased (retention): the data a mayoral notice is built from goes at the
    # latest six months after release. The API's notice body always names them.
    offence_category: OffenceCategory | None = OffenceCategory.OTHER
    conviction_final: Flag | None = False

    @model_validator(mode="after")
    def _dates_in_order(self) -> DetentionNotice:
        if self.expected_release is not None and self.expected_release < self.detention_start:
            raise ValueError("expected_release is before detention_start")
        if self.person.birth_date >= self.detention_start:
            raise ValueError("person.birth_date must be before detention_start")
        return self

    @property
    def case_id(self) -> str:
        return case_id_for(self.detention_id)

    @property
    def qualifies_for_mayoral_notice(self) -> bool:
        """The mayor is told in advance (BIJ) of a final conviction for a violent or sexual offence."""
        return bool(self.conviction_final) and self.offence_category in (
            OffenceCategory.VIOLENT,
            OffenceCategory.SEXUAL,
        )


# ---------------------------------------------------------------------------
# Task outcomes: each task template names the kind of outcome it takes.


class NoteOutcome(Strict):
    kind: Literal["note"] = "note"
    note: Note | None = None


class ContactOutcome(Strict):
    kind: Literal["contact"] = "contact"
    contacted_on: Day
    note: Note | None = None


class ScreeningOutcome(Strict):
    kind: Literal["screening"] = "screening"
    conditions: dict[BasicCondition, ScreeningStatus]

    @model_validator(mode="after")
    def _all_conditions(self) -> ScreeningOutcome:
        missing = [c.value for c in BasicCondition if c not in self.conditions]
        if missing:
            raise ValueError(f"screening misses conditions: {', '.join(missing)}")
        return self


class PlanOutcome(Strict):
    kind: Literal["plan"] = "plan"
    agreed_on: Day


class IdDocumentOutcome(Strict):
    kind: Literal["id_document"] = "id_document"
    document: Literal["passport", "identity_card", "residence_permit"]
    ready_on: Day


class BenefitApplicationOutcome(Strict):
    kind: Literal["benefit_application"] = "benefit_application"
    submitted_on: Day


class BenefitDecisionOutcome(Strict):
    kind: Literal["benefit_decision"] = "benefit_decision"
    decision: Literal["granted", "refused"]
    decided_on: Day


class AdvanceOutcome(Strict):
    kind: Literal["advance"] = "advance"
    advance_paid: Flag
    note: Note | None = None


Outcome = Annotated[
    NoteOutcome
    | ContactOutcome
    | ScreeningOutcome
    | PlanOutcome
    | IdDocumentOutcome
    | BenefitApplicationOutcome
    | BenefitDecisionOutcome
    | AdvanceOutcome,
    Field(discriminator="kind"),
]


# ---------------------------------------------------------------------------
# Case state


class Task(BaseModel):
    key: str
    title: str
    condition: BasicCondition | None = None
    team: str
    assignee: str | None = None
    due: datetime | None = None
    # Why the task is due then: "own deadline", or "needed for <task> (due <day>)" when a
    # task that needs it is due sooner than its own deadline allows (domain.planning).
    due_reason: str | None = None
    prerequisites: list[str] = []
    status: TaskStatus = TaskStatus.OPEN
    escalation_level: EscalationLevel = EscalationLevel.NONE
    overdue: bool = False
    at_risk: bool = False
    at_risk_reason: str | None = None
    triage: bool = False
    outcome_kind: OutcomeKind = "note"
    outcome: Outcome | None = None
    completed_by: str | None = None
    completed_at: datetime | None = None
    created_at: datetime
    guidance: str = ""


class Notification(BaseModel):
    """A reminder or escalation about a task. No personal data: ids and roles only."""

    notification_id: str
    case_id: str
    municipality: str
    task_key: str
    level: EscalationLevel
    recipient_role: str
    team: str
    assignee: str | None = None
    due: datetime | None = None
    sent_at: datetime | None = None


class CaseClosedNotice(BaseModel):
    """Tells the case's team that it closed, and why. Ids and codes only."""

    case_id: str
    municipality: str
    reason: ClosedReason
    closed_at: datetime
    next_case_id: str | None = None


class HistoryEntry(BaseModel):
    """One line of the case's own timeline: what happened, when and who did it."""

    at: datetime
    actor: str
    action: str
    task_key: str | None = None
    detail: str | None = None


class Leave(BaseModel):
    starts_on: Day
    ends_on: Day


# ---------------------------------------------------------------------------
# What the prison shares: the D&R plan (art. 18a Pbw) and risk information (art. 18b Pbw)


class PlanStatus(StrEnum):
    DRAFT = "draft"
    AGREED = "agreed"


class PlanActionCode(StrEnum):
    """What the shareable D&R plan says will be done for a basic condition: codes, never
    the prison's free text."""

    ID_APPLY = "id_apply"
    ID_COLLECT = "id_collect"
    INCOME_APPLY = "income_apply"
    INCOME_ADVANCE = "income_advance"
    HOUSING_SEARCH = "housing_search"
    HOUSING_SHELTER = "housing_shelter"
    HOUSING_RETURN = "housing_return"
    WORK_REINTEGRATION = "work_reintegration"
    DAYTIME_ACTIVITY = "daytime_activity"
    CARE_INSURANCE = "care_insurance"
    CARE_REFERRAL = "care_referral"
    DEBT_INVENTORY = "debt_inventory"
    DEBT_COUNSELLING = "debt_counselling"
    NETWORK_CONTACT = "network_contact"


# The condition each action belongs to: an action under another condition is an error.
ACTION_CONDITION: dict[PlanActionCode, BasicCondition] = {
    PlanActionCode.ID_APPLY: BasicCondition.ID_DOCUMENT,
    PlanActionCode.ID_COLLECT: BasicCondition.ID_DOCUMENT,
    PlanActionCode.INCOME_APPLY: BasicCondition.INCOME,
    PlanActionCode.INCOME_ADVANCE: BasicCondition.INCOME,
    PlanActionCode.HOUSING_SEARCH: BasicCondition.HOUSING,
    PlanActionCode.HOUSING_SHELTER: BasicCondition.HOUSING,
    PlanActionCode.HOUSING_RETURN: BasicCondition.HOUSING,
    PlanActionCode.WORK_REINTEGRATION: BasicCondition.WORK_DAYTIME,
    PlanActionCode.DAYTIME_ACTIVITY: BasicCondition.WORK_DAYTIME,
    PlanActionCode.CARE_INSURANCE: BasicCondition.CARE,
    PlanActionCode.CARE_REFERRAL: BasicCondition.CARE,
    PlanActionCode.DEBT_INVENTORY: BasicCondition.DEBTS,
    PlanActionCode.DEBT_COUNSELLING: BasicCondition.DEBTS,
    PlanActionCode.NETWORK_CONTACT: BasicCondition.SOCIAL_NETWORK,
}


class PlanAction(Strict):
    condition: BasicCondition
    code: PlanActionCode
    due_on: Day | None = None
    done_on: Day | None = None

    @model_validator(mode="after")
    def _code_of_condition(self) -> PlanAction:
        if ACTION_CONDITION[self.code] != self.condition:
            raise ValueError(f"action {self.code.value} belongs to {ACTION_CONDITION[self.code].value}")
        return self


class SharedPlan(Strict):
    """The shareable part of the D&R plan, as the prison service sends it: what stands per
    basic condition, and the actions agreed for it. A later version replaces an earlier."""

    detention_id: DetentionId
    version: int = Field(ge=1, le=10_000)
    drawn_up_on: Day
    status: PlanStatus = PlanStatus.DRAFT
    agreed_on: Day | None = None
    basic_conditions: dict[BasicCondition, ScreeningStatus] = {}
    actions: list[PlanAction] = Field(default=[], max_length=100)

    @model_validator(mode="after")
    def _agreed_has_a_date(self) -> SharedPlan:
        if (self.status == PlanStatus.AGREED) != (self.agreed_on is not None):
            raise ValueError("an agreed plan has agreed_on, a draft has none")
        if self.agreed_on is not None and self.agreed_on < self.drawn_up_on:
            raise ValueError("agreed_on is before drawn_up_on")
        return self


class RiskLevel(StrEnum):
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


class RiskCode(StrEnum):
    """What a risk assessment names, as codes: never its text."""

    VIOLENCE = "violence"
    DOMESTIC_VIOLENCE = "domestic_violence"
    SEXUAL_OFFENCE = "sexual_offence"
    WEAPONS = "weapons"
    VICTIM_NEARBY = "victim_nearby"
    CONTACT_BAN = "contact_ban"
    AREA_BAN = "area_ban"
    SUBSTANCE_USE = "substance_use"
    MENTAL_HEALTH = "mental_health"
    ABSCONDING = "absconding"


class RiskInformation(Strict):
    """Risk information as the prison service sends it. The offence and whether the mayor
    is told belong to the notice and to the mayor's track: the case keeps neither from it."""

    detention_id: DetentionId
    assessed_on: Day
    recidivism: RiskLevel
    harm: RiskLevel
    codes: list[RiskCode] = Field(default=[], max_length=len(RiskCode))
    conviction_final: Flag
    offence_category: OffenceCategory
    mayoral_notice: Flag = False


class CasePlan(BaseModel):
    """The shared D&R plan as the case keeps it: nothing about a condition without consent."""

    version: int
    drawn_up_on: date
    status: PlanStatus
    agreed_on: date | None = None
    received_at: datetime
    basic_conditions: dict[BasicCondition, ScreeningStatus] = {}
    actions: list[PlanAction] = []

    def forget(self, condition: BasicCondition) -> None:
        """Consent withdrawn: what the plan said about the condition is no longer kept."""
        self.basic_conditions.pop(condition, None)
        self.actions = [a for a in self.actions if a.condition != condition]


class CaseRisk(BaseModel):
    """Risk information for casework: levels and codes, and whether a coordinator has seen
    it. Erased with the notice's offence data."""

    assessed_on: date
    recidivism: RiskLevel
    harm: RiskLevel
    codes: list[RiskCode] = []
    received_at: datetime
    seen_by: str | None = None
    seen_at: datetime | None = None


# Who the case's timeline names for what the justice message box brought.
MESSAGE_BOX_ACTOR = "message_box"


class SharePlanInput(Strict):
    actor: Actor
    plan: SharedPlan


class ShareRiskInput(Strict):
    actor: Actor
    risk: RiskInformation


class CaseState(BaseModel):
    """All state of a case, in one model so that continue-as-new can carry it whole."""

    case_id: str
    revision: int = 0
    notice: DetentionNotice
    policy: Policy
    phase: Phase = Phase.NOTIFIED
    notified_at: datetime
    prison: str
    expected_release: Day | None = None
    actual_release: Day | None = None
    short_stay: bool = False
    screening: dict[BasicCondition, ScreeningStatus] = {}
    tasks: list[Task] = []
    anchors: dict[str, datetime] = {}
    leaves: list[Leave] = []
    notifications: list[Notification] = []
    history: list[HistoryEntry] = []
    closed_reason: ClosedReason | None = None
    closed_at: datetime | None = None
    previous_case_id: str | None = None
    # The case of the re-detention: set when the case closes as re-detained, or while it
    # waits, open, for that case's day-one notice (``activities.links``).
    next_case_id: str | None = None
    # Whether the case asked, once started, for a case of the same person waiting for it.
    previous_case_checked: bool = False
    moved_to: str | None = None
    release_unexpected: bool = False
    notices_received: int = 0
    # When the notice's offence data was erased (retention); None while it is kept.
    offence_erased_at: datetime | None = None
    # The conversations with partner systems beside the case's loop (``domain.follow_up``,
    # ``workflows/follow_ups/``). The population register's check after the notice; None
    # when the case's policy does not check.
    registration: RegistrationLookup | None = None
    # What a partner system said about a basic condition, apart from the screening: e.g.
    # housing, when the register knows no address. For the screening to weigh; no task.
    condition_flags: dict[BasicCondition, str] = {}
    # The follow-up of the benefit application in the income system, once the caseworker
    # completed the application task; None before, and when the policy does not follow it.
    benefit_follow_up: BenefitFollowUp | None = None
    # The follow-up of the ID document at civil affairs, once a caseworker took the ID
    # document task on; None before, and when the policy does not book it.
    id_document_follow_up: IdDocumentFollowUp | None = None
    # Probation's advice for the plan, asked for when the plan task was created; None
    # before, in short stays, and when the policy does not ask.
    probation_advice: ProbationAdvice | None = None
    # The shareable D&R plan the prison sent, its latest version; None before one came.
    plan: CasePlan | None = None
    # The latest risk information the prison sent; None before, and once erased.
    risk: CaseRisk | None = None
    # How far the SQL read model has been told: its revision and the history and
    # notifications written so far.
    projected_revision: int = -1
    projected_history: int = 0
    projected_notifications: int = 0

    def task(self, key: str) -> Task | None:
        return next((t for t in self.tasks if t.key == key), None)

    @property
    def closed(self) -> bool:
        return self.phase == Phase.CLOSED

    def consent_withdrawn(self, condition: BasicCondition) -> bool:
        return self.screening.get(condition) == ScreeningStatus.NO_CONSENT

    @property
    def responsible_municipality(self) -> str:
        """The municipality whose staff may see the case: the new one once it has been handed over."""
        if self.closed_reason == ClosedReason.MOVED and self.moved_to is not None:
            return self.moved_to
        return self.notice.municipality

    @property
    def overdue_count(self) -> int:
        return sum(1 for t in self.tasks if t.status == TaskStatus.OPEN and t.overdue)

    @property
    def at_risk_count(self) -> int:
        return sum(1 for t in self.tasks if t.status == TaskStatus.OPEN and t.at_risk)


class StartCaseInput(BaseModel):
    """Input of a case workflow: a new case's notice and policy, or, when a case continues
    as new, its whole state, which holds the policy (carried once, not twice)."""

    notice: DetentionNotice
    policy: Policy | None = None
    state: CaseState | None = None

    @model_validator(mode="after")
    def _policy_of_a_new_case(self) -> StartCaseInput:
        if self.policy is None and self.state is None:
            raise ValueError("a new case takes its policy")
        return self

    @property
    def case_policy(self) -> Policy:
        """The policy the case runs on, wherever the input holds it."""
        if self.state is not None:
            return self.state.policy
        assert self.policy is not None  # as _policy_of_a_new_case makes sure
        return self.policy


class NoticeReceipt(BaseModel):
    case_id: str
    created: bool


# ---------------------------------------------------------------------------
# Human task updates


class CompleteTaskInput(Strict):
    task_key: str
    actor: Actor
    outcome: Outcome | None = None


class ClaimTaskInput(Strict):
    task_key: str
    actor: Actor


class TaskAssignment(Strict):
    assignee: Assignee | None = None
    team: Code | None = None

    @model_validator(mode="after")
    def _something_to_assign(self) -> TaskAssignment:
        if self.assignee is None and self.team is None:
            raise ValueError("give an assignee, a team or both")
        return self


class AssignTaskInput(TaskAssignment):
    task_key: str
    actor: Actor


# ---------------------------------------------------------------------------
# Events from outside the municipality's own work


class ScreeningRecorded(Strict):
    type: Literal["screening_recorded"] = "screening_recorded"
    conditions: dict[BasicCondition, ScreeningStatus]


class PlanAgreed(Strict):
    type: Literal["plan_agreed"] = "plan_agreed"
    agreed_on: Day


class ExpectedReleaseChanged(Strict):
    type: Literal["expected_release_changed"] = "expected_release_changed"
    expected_release: Day
    reason: Note | None = None


class Released(Strict):
    type: Literal["released"] = "released"
    released_on: Day


class LeaveGranted(Strict):
    type: Literal["leave_granted"] = "leave_granted"
    starts_on: Day
    ends_on: Day

    @model_validator(mode="after")
    def _in_order(self) -> LeaveGranted:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        return self


class TransferredToPrison(Strict):
    type: Literal["transferred"] = "transferred"
    prison: Code


class ReDetained(Strict):
    type: Literal["re_detained"] = "re_detained"
    new_detention_id: DetentionId


class MovedToMunicipality(Strict):
    type: Literal["moved"] = "moved"
    municipality: MunicipalityCode


class SupportDeclined(Strict):
    type: Literal["declined"] = "declined"
    note: Note | None = None


class ConsentWithdrawn(Strict):
    type: Literal["consent_withdrawn"] = "consent_withdrawn"
    condition: BasicCondition


class ConsentGiven(Strict):
    type: Literal["consent_given"] = "consent_given"
    condition: BasicCondition


class Deceased(Strict):
    type: Literal["deceased"] = "deceased"


class ClosedOther(Strict):
    type: Literal["closed"] = "closed"
    note: Note


class RiskSeen(Strict):
    """A coordinator has seen the risk information: the case no longer asks for attention."""

    type: Literal["risk_seen"] = "risk_seen"


CaseEvent = Annotated[
    ScreeningRecorded
    | PlanAgreed
    | ExpectedReleaseChanged
    | Released
    | LeaveGranted
    | TransferredToPrison
    | ReDetained
    | MovedToMunicipality
    | SupportDeclined
    | ConsentWithdrawn
    | ConsentGiven
    | Deceased
    | ClosedOther
    | RiskSeen,
    Field(discriminator="type"),
]


class RecordEventInput(Strict):
    actor: Actor
    event: CaseEvent


# The updates by which a person's cases find each other (``activities.links``): a case
# hears of the case before it, and a case waiting for the new case of a re-detention hears
# that it has started.
LINK_PREVIOUS_CASE = "link_previous_case"
NEXT_CASE_STARTED = "next_case_started"


class PreviousCaseLinked(BaseModel):
    previous_case_id: str


class NextCaseStarted(BaseModel):
    next_case_id: str


class CaseLink(BaseModel):
    """From the case closing as re-detained to the new case; ``bsn``: its person, for the
    new case to be checked against (the link is an activity's input, encrypted)."""

    previous_case_id: str
    next_case_id: str
    bsn: str


class LinkOutcome(StrEnum):
    LINKED = "linked"
    # The new case has closed already: nothing to link, the old case closes all the same.
    CLOSED = "closed"
    NOT_FOUND = "not_found"
    OTHER_PERSON = "other_person"


class PreviousCaseClaim(BaseModel):
    """A new case asking whether a case of the same person waits for it (a re-detention
    reported before its day-one notice)."""

    case_id: str
    bsn: str


class Resident(BaseModel):
    """Whom a case is about, by name only (no BSN, no birth date), for a list that names
    its residents, and the municipality that may see it."""

    given_names: str
    surname: str
    municipality: str


class CaseSummary(BaseModel):
    """What an update about the case as a whole answers."""

    case_id: str
    phase: Phase
    revision: int
    closed_reason: ClosedReason | None = None


def as_datetime(day: date) -> datetime:
    """A calendar date as an anchor instant: the start of that day in the Netherlands."""
    return datetime.combine(day, time(0), tzinfo=LOCAL_TIME)


def local_date(moment: datetime) -> date:
    """The calendar date in the Netherlands at a moment: what a caseworker calls today."""
    return moment.astimezone(LOCAL_TIME).date()

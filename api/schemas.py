"""What the API answers: views on the case state, without the policy it carries."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from domain.mayoral import (
    JudicialMeasure,
    MayoralAdvice,
    MayoralNotice,
    MayoralOutcome,
    MayoralTask,
    NoticeClosedReason,
    NoticeKind,
    NoticeState,
    NoticeStatus,
    SeriousOffence,
)
from domain.models import (
    BasicCondition,
    CasePlan,
    CaseRisk,
    CaseState,
    ClosedReason,
    DetentionNotice,
    Flag,
    HistoryEntry,
    Leave,
    Notification,
    OffenceCategory,
    Outcome,
    Person,
    Phase,
    ScreeningStatus,
    Strict,
    Task,
)
from domain.probation import ProbationAdviceView
from domain.registration import RegistrationLookup


class PersonCase(BaseModel):
    """Another case of the same person, in a municipality the reader is granted."""

    case_id: str
    municipality: str
    detention_start: date | None
    actual_release: date | None
    closed_at: datetime | None
    closed_reason: str | None


class CaseView(BaseModel):
    case_id: str
    revision: int
    phase: Phase
    municipality: str
    prison: str
    person: Person
    offence_category: str | None
    conviction_final: bool | None
    detention_start: date
    expected_release: date | None
    actual_release: date | None
    release_unexpected: bool
    short_stay: bool
    policy_version: str
    screening: dict[BasicCondition, ScreeningStatus]
    # What a partner system said about a condition apart from the screening (housing, when
    # the population register knows no address).
    condition_flags: dict[BasicCondition, str] = {}
    # The population register's check after the notice: where the person is registered.
    registration: RegistrationLookup | None = None
    # Probation's advice for the plan: its kind, the supervision status and the special
    # conditions (codes). For casework only.
    probation_advice: ProbationAdviceView | None = None
    # The shareable D&R plan the prison sent (its latest version): per condition its status
    # and actions (codes and dates), only for conditions with consent.
    plan: CasePlan | None = None
    # The prison's risk information: levels and codes, and who has seen it. Casework only.
    risk: CaseRisk | None = None
    # Whether the mayor's office has a notice (BIJ) for this detention, never what it holds;
    # only where the policy's ``mayoral.casework_sees_notice`` is on (else None).
    mayoral_notice_exists: bool | None = None
    overdue_count: int
    at_risk_count: int
    tasks: list[Task]
    leaves: list[Leave]
    notifications: list[Notification]
    history: list[HistoryEntry]
    closed_reason: ClosedReason | None
    closed_at: datetime | None
    previous_case_id: str | None
    next_case_id: str | None
    moved_to: str | None
    # The person's other cases (earlier and later detentions), by the person key; in the
    # municipalities the reader is granted.
    same_person: list[PersonCase] = []

    @classmethod
    def from_state(cls, state: CaseState) -> CaseView:
        notice = state.notice
        return cls(
            **state.model_dump(
                include={
                    "case_id",
                    "revision",
                    "phase",
                    "prison",
                    "expected_release",
                    "actual_release",
                    "release_unexpected",
                    "short_stay",
                    "screening",
                    "condition_flags",
                    "registration",
                    "plan",
                    "risk",
                    "tasks",
                    "leaves",
                    "notifications",
                    "history",
                    "closed_reason",
                    "closed_at",
                    "previous_case_id",
                    "next_case_id",
                    "moved_to",
                }
            ),
            municipality=notice.municipality,
            person=notice.person,
            offence_category=notice.offence_category.value if notice.offence_category else None,
            conviction_final=notice.conviction_final,
            detention_start=notice.detention_start,
            policy_version=state.policy.version,
            probation_advice=(
                ProbationAdviceView.model_validate(state.probation_advice.model_dump())
                if state.probation_advice is not None
                else None
            ),
            overdue_count=state.overdue_count,
            at_risk_count=state.at_risk_count,
        )


class ResidentName(BaseModel):
    """A case's resident by name: no BSN, no birth date."""

    case_id: str
    given_names: str
    surname: str


class Residents(BaseModel):
    residents: list[ResidentName]


class NoticeBody(DetentionNotice):
    """The day-one notice as the prison service sends it: the offence is always named. (A
    case's own copy loses it when retention erases it.)"""

    offence_category: OffenceCategory = OffenceCategory.OTHER
    conviction_final: Flag = False


class CompleteTaskBody(Strict):
    outcome: Outcome | None = None


# ---------------------------------------------------------------------------
# The mayor's track (BIJ)


class NoticePerson(BaseModel):
    """Whom a notice is about, for the mayor's office: never the BSN."""

    given_names: str
    surname: str
    birth_date: date


class NoticeView(BaseModel):
    """A mayoral notice as the mayor's office works on it: who, when and for what, the
    playbook's steps with their guidance and outcomes, probation's advice (codes), and
    what happened in order."""

    notice_id: str
    workflow_id: str
    revision: int
    kind: NoticeKind
    status: NoticeStatus
    municipality: str
    prison: str
    person: NoticePerson
    starts_on: date
    ends_on: date | None
    returned_on: date | None
    offence_category: SeriousOffence
    measure: JudicialMeasure
    unrest_expected: bool
    # The playbook was compressed into less notice than it is written for.
    compressed: bool
    decision: str | None
    measure_types: list[str]
    probation_advice: MayoralAdvice | None
    tasks: list[MayoralTask]
    timeline: list[HistoryEntry]
    closed_reason: NoticeClosedReason | None
    closed_at: datetime | None
    policy_version: str

    @classmethod
    def from_state(cls, state: NoticeState) -> NoticeView:
        notice = state.notice
        assert notice is not None, "an erased notice is not read"
        return cls(
            notice_id=notice.notice_id,
            workflow_id=state.workflow_id,
            revision=state.revision,
            kind=state.kind,
            status=state.status,
            municipality=state.municipality,
            prison=notice.prison,
            person=NoticePerson.model_validate(notice.person.model_dump(exclude={"bsn"})),
            starts_on=state.starts_on,
            ends_on=state.ends_on,
            returned_on=state.returned_on,
            offence_category=notice.offence_category,
            measure=notice.measure,
            unrest_expected=state.unrest_expected,
            compressed=state.compressed,
            decision=state.decision,
            measure_types=list(state.measure_types),
            probation_advice=state.probation_advice,
            tasks=state.tasks,
            timeline=state.history,
            closed_reason=state.closed_reason,
            closed_at=state.closed_at,
            policy_version=state.policy_version,
        )


class MayoralNoticeBody(MayoralNotice):
    """The BIJ notice as the justice information service sends it."""


class CompleteNoticeTaskBody(Strict):
    outcome: MayoralOutcome | None = None

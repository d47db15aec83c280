"""What the API answers: views on the case state, without the policy it carries."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from domain.models import (
    BasicCondition,
    CaseState,
    ClosedReason,
    DetentionNotice,
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
    # conditions (codes). For casework only: never in the mayor's office's view.
    probation_advice: ProbationAdviceView | None = None
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


class MayoralPerson(BaseModel):
    given_names: str
    surname: str
    birth_date: date


class MayoralCaseView(BaseModel):
    """What the mayor's office sees of a case it is told of (BIJ): who returns, from
    where, when, and for what. Never the screening, tasks, care, debts or notes."""

    case_id: str
    revision: int
    phase: Phase
    municipality: str
    prison: str
    person: MayoralPerson
    offence_category: str | None
    conviction_final: bool | None
    detention_start: date
    expected_release: date | None
    actual_release: date | None
    leaves: list[Leave]
    closed_reason: ClosedReason | None
    closed_at: datetime | None
    moved_to: str | None

    @classmethod
    def from_state(cls, state: CaseState) -> MayoralCaseView:
        # The whole view, cut down to these fields (the person to name and birth date).
        return cls.model_validate(CaseView.from_state(state).model_dump(include=set(cls.model_fields)))


class NoticeBody(DetentionNotice):
    """The day-one notice as the prison service sends it: the offence is always named. (A
    case's own copy loses it when retention erases it.)"""

    offence_category: OffenceCategory = OffenceCategory.OTHER
    conviction_final: bool = False


class CompleteTaskBody(Strict):
    outcome: Outcome | None = None

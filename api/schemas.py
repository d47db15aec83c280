"""What the API answers: views on the case state, without the policy it carries."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from domain.models import (
    BasicCondition,
    CaseState,
    ClosedReason,
    HistoryEntry,
    Leave,
    Notification,
    Outcome,
    Person,
    Phase,
    ScreeningStatus,
    Strict,
    Task,
)


class CaseView(BaseModel):
    case_id: str
    revision: int
    phase: Phase
    municipality: str
    prison: str
    person: Person
    offence_category: str
    conviction_final: bool
    detention_start: date
    expected_release: date | None
    actual_release: date | None
    release_unexpected: bool
    short_stay: bool
    policy_version: str
    screening: dict[BasicCondition, ScreeningStatus]
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
            offence_category=notice.offence_category.value,
            conviction_final=notice.conviction_final,
            detention_start=notice.detention_start,
            policy_version=state.policy.version,
            overdue_count=state.overdue_count,
            at_risk_count=state.at_risk_count,
        )


class CompleteTaskBody(Strict):
    outcome: Outcome | None = None

"""What the read model is told about a case after each change: no policy, no person.

Built by the workflow (pure, deterministic) and written by the projection activity. The
history and the notifications travel as increments, from where the last one stopped.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel

from domain.models import (
    ESCALATION_ORDER,
    BasicCondition,
    BenefitApplicationOutcome,
    BenefitDecisionOutcome,
    CaseState,
    ClosedReason,
    EscalationLevel,
    HistoryEntry,
    Notification,
    Phase,
    ScreeningStatus,
    TaskStatus,
    as_datetime,
)


class TaskSnapshot(BaseModel):
    key: str
    title: str
    condition: BasicCondition | None = None
    team: str
    assignee: str | None = None
    status: TaskStatus
    due: datetime | None = None
    due_reason: str | None = None
    overdue: bool = False
    at_risk: bool = False
    at_risk_reason: str | None = None
    triage: bool = False
    escalation_level: EscalationLevel = EscalationLevel.NONE
    completed_by: str | None = None
    completed_at: datetime | None = None

    @property
    def priority(self) -> int:
        """Higher is more urgent: the rung of the ladder, then at risk, then triage."""
        return ESCALATION_ORDER.index(self.escalation_level) * 4 + 2 * self.at_risk + self.triage


class CaseProjection(BaseModel):
    case_id: str
    revision: int
    municipality: str
    phase: Phase
    prison: str
    detention_start: date
    expected_release: date | None = None
    actual_release: date | None = None
    release_unexpected: bool = False
    short_stay: bool = False
    offence_category: str | None = None
    conviction_final: bool | None = None
    mayoral_notice: bool = False
    policy_version: str
    notified_at: datetime
    overdue_count: int = 0
    at_risk_count: int = 0
    closed_reason: ClosedReason | None = None
    closed_at: datetime | None = None
    screening: dict[BasicCondition, ScreeningStatus] = {}
    tasks: list[TaskSnapshot] = []
    released_with_id: bool | None = None
    released_with_income: bool | None = None
    released_with_housing: bool | None = None
    benefit_applied_on: date | None = None
    benefit_decided_on: date | None = None
    previous_case_id: str | None = None
    next_case_id: str | None = None
    # Risk information a coordinator has not yet seen, in an open case.
    risk_unseen: bool = False
    history_from: int = 0
    history: list[HistoryEntry] = []
    notifications: list[Notification] = []
    # Only for the writer to make the person key of (core.pseudonyms); never stored.
    person_bsn: str | None = None


def in_order_at_release(state: CaseState, condition: BasicCondition) -> bool | None:
    """Whether a condition was in order on the day of release; None before release, or
    when the person gave no consent to know."""
    if state.actual_release is None:
        return None
    status = state.screening.get(condition)
    if status == ScreeningStatus.IN_ORDER:
        return True
    if status in (None, ScreeningStatus.NO_CONSENT):
        return None
    end_of_release_day = as_datetime(state.actual_release) + timedelta(days=1)
    relevant = [t for t in state.tasks if t.condition == condition and t.status != TaskStatus.NOT_APPLICABLE]
    return bool(relevant) and all(
        t.status == TaskStatus.COMPLETED
        and t.completed_at is not None
        and t.completed_at <= end_of_release_day
        and not (isinstance(t.outcome, BenefitDecisionOutcome) and t.outcome.decision == "refused")
        for t in relevant
    )


def _benefit_dates(state: CaseState) -> tuple[date | None, date | None]:
    """When the benefit was applied for and decided: from the tasks whose outcome records
    them, whatever the policy calls those tasks."""
    outcomes = [t.outcome for t in state.tasks]
    applied = next((o.submitted_on for o in outcomes if isinstance(o, BenefitApplicationOutcome)), None)
    decided = next((o.decided_on for o in outcomes if isinstance(o, BenefitDecisionOutcome)), None)
    return applied, decided


def project(state: CaseState, *, history_from: int = 0, notifications_from: int = 0) -> CaseProjection:
    notice = state.notice
    applied_on, decided_on = _benefit_dates(state)
    return CaseProjection(
        case_id=state.case_id,
        revision=state.revision,
        municipality=state.responsible_municipality,
        phase=state.phase,
        prison=state.prison,
        detention_start=notice.detention_start,
        expected_release=state.expected_release,
        actual_release=state.actual_release,
        release_unexpected=state.release_unexpected,
        short_stay=state.short_stay,
        offence_category=notice.offence_category.value if notice.offence_category else None,
        conviction_final=notice.conviction_final,
        mayoral_notice=notice.qualifies_for_mayoral_notice,
        policy_version=state.policy.version,
        notified_at=state.notified_at,
        overdue_count=state.overdue_count,
        at_risk_count=state.at_risk_count,
        closed_reason=state.closed_reason,
        closed_at=state.closed_at,
        screening=dict(state.screening),
        tasks=[TaskSnapshot.model_validate(t, from_attributes=True) for t in state.tasks],
        released_with_id=in_order_at_release(state, BasicCondition.ID_DOCUMENT),
        released_with_income=in_order_at_release(state, BasicCondition.INCOME),
        released_with_housing=in_order_at_release(state, BasicCondition.HOUSING),
        benefit_applied_on=applied_on,
        benefit_decided_on=decided_on,
        previous_case_id=state.previous_case_id,
        next_case_id=state.next_case_id,
        risk_unseen=state.risk is not None and state.risk.seen_at is None and not state.closed,
        history_from=history_from,
        history=state.history[history_from:],
        notifications=state.notifications[notifications_from:],
        person_bsn=notice.person.bsn,
    )

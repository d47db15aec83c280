"""Probation (3RO) advises the mayor on a BIJ notice: the notice asks for the advice by the
notice's id when it arrives, reads once a working day until it is issued, and records it
as codes (a risk level, the measures advised). Unavailable past the policy's bound, the
mayor's office asks for it by hand (the task on ``probation_advice_failed``)."""

from __future__ import annotations

from temporalio import workflow

from workflows.follow_ups.driver import Call, Case, FollowUp

with workflow.unsafe.imports_passed_through():
    from activities.partners.options import PROBATION_READ
    from activities.partners.probation import MayoralAdviceQuery, MayoralAdviceStatus, ProbationActivities
    from domain.mayoral import MAYORAL_ADVICE_FAILURE_REASONS, MayoralAdvice, NoticeState
    from domain.policy import FollowUpFigures


class MayoralProbation(FollowUp[MayoralAdvice, MayoralAdviceStatus]):
    actor = "probation"
    failed_action = "probation_advice_failed"
    failure_reasons = MAYORAL_ADVICE_FAILURE_REASONS
    state: NoticeState

    @classmethod
    def begin(cls, state: NoticeState, case: Case) -> MayoralProbation | None:
        """A notice the mayor's office acts on, under a playbook that asks probation."""
        if state.closed or state.policy.probation_advice is None or state.probation_advice is not None:
            return None
        state.probation_advice = MayoralAdvice(started_at=workflow.now())
        return cls(state, case, state.probation_advice)

    @classmethod
    def resume(cls, state: NoticeState, case: Case) -> MayoralProbation | None:
        return cls(state, case, state.probation_advice) if state.probation_advice is not None else None

    def figures(self) -> FollowUpFigures | None:
        return self.state.policy.probation_advice

    def read(self) -> Call[MayoralAdviceStatus] | None:
        # The notice's id is all probation is told here.
        notice_id = self.state.workflow_id.removeprefix("bij-")
        return Call(ProbationActivities.read_mayoral_advice, MayoralAdviceQuery(notice_id=notice_id), PROBATION_READ)

    def take(self, answer: MayoralAdviceStatus) -> None:
        advice, found = self.progress, answer.advice
        advice.requested_on = found.requested_on
        if found.status != "issued" or found.risk is None:
            return
        advice.issued_on, advice.risk = found.issued_on, found.risk
        advice.advised_measures = list(found.advised_measures)
        advice.finished_at = workflow.now()
        self.case.changed_by(self.actor, "probation_advice_received")

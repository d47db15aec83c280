"""Probation (3RO): when the plan task is created, the case reads probation's advice for
the plan once a working day until it is issued, and records it as codes. A failure opens
no task: the caseworker agrees the plan with probation and asks for the advice there."""

from __future__ import annotations

from temporalio import workflow

from workflows.follow_ups.driver import Call, Case, FollowUp

with workflow.unsafe.imports_passed_through():
    from activities.partners.options import PROBATION_READ
    from activities.partners.probation import ProbationActivities, ProbationQuery, ProbationStatus
    from domain import probation
    from domain.models import CaseState, Task
    from domain.policy import FollowUpFigures
    from domain.probation import ProbationAdvice


class Probation(FollowUp[ProbationAdvice, ProbationStatus]):
    actor = "probation"
    failed_action = "probation_advice_failed"
    failure_reasons = probation.FAILURE_REASONS
    failure_opens_task = False
    task_label = "plan"

    @classmethod
    def begin(cls, state: CaseState, case: Case, plan: Task) -> Probation | None:
        """The plan task was created, and the policy asks probation."""
        if state.policy.probation_advice is None or state.probation_advice is not None:
            return None
        state.probation_advice = ProbationAdvice(task=plan.key, started_at=workflow.now())
        return cls(state, case, state.probation_advice)

    @classmethod
    def resume(cls, state: CaseState, case: Case) -> Probation | None:
        return cls(state, case, state.probation_advice) if state.probation_advice is not None else None

    def figures(self) -> FollowUpFigures | None:
        return self.state.policy.probation_advice

    def task_key(self) -> str | None:
        return self.progress.task

    def read(self) -> Call[ProbationStatus] | None:
        # The detention id is all probation is told.
        return Call(
            ProbationActivities.read_probation_advice,
            ProbationQuery(detention_id=self.state.notice.detention_id),
            PROBATION_READ,
        )

    def take(self, answer: ProbationStatus) -> None:
        advice, found = self.progress, answer.advice
        advice.requested_on = found.requested_on
        if found.status != "issued" or found.recommendation is None:
            return
        advice.issued_on = found.issued_on
        advice.kind = probation.ADVICE_KINDS[found.recommendation]
        advice.supervision = answer.supervision.status
        advice.special_conditions = list(found.special_conditions)
        advice.finished_at = workflow.now()
        # No free text: what was advised is in the case, the timeline only says it came.
        self.case.changed_by(self.actor, "probation_advice_received", task_key=advice.task)

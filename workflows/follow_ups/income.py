"""The income system (Werk en Inkomen): the benefit application is submitted when the
caseworker completes its task, then read once a working day until decided; the decision
completes the decision task unless a caseworker recorded it first."""

from __future__ import annotations

from temporalio import workflow

from workflows.follow_ups.driver import Call, Case, FollowUp

with workflow.unsafe.imports_passed_through():
    from activities.partners.income import (
        BenefitApplication,
        BenefitApplicationQuery,
        BenefitApplicationRequest,
        IncomeActivities,
    )
    from activities.partners.options import INCOME_READ, INCOME_SUBMIT
    from domain.income import FAILURE_REASONS, FOLLOW_UP_FAILED_EVENT, BenefitFollowUp
    from domain.models import BasicCondition, BenefitDecisionOutcome, CaseState, Task, TaskStatus
    from domain.policy import FollowUpFigures


class IncomeSystem(FollowUp[BenefitFollowUp, BenefitApplication]):
    actor = "income_system"
    failed_action = FOLLOW_UP_FAILED_EVENT
    failure_reasons = FAILURE_REASONS
    ended_action = "benefit_follow_up_ended"
    condition = BasicCondition.INCOME
    task_label = "decision"

    @classmethod
    def begin(cls, state: CaseState, case: Case, application: Task) -> IncomeSystem | None:
        """The caseworker completed the application task, and the policy follows it."""
        figures = state.policy.income_follow_up
        if figures is None or state.benefit_follow_up is not None:
            return None
        decision = next(
            (t.key for t in state.policy.tasks if t.outcome == "benefit_decision" and t.anchor_task == application.key),
            None,
        )
        now = workflow.now()
        state.benefit_follow_up = BenefitFollowUp(
            application_task=application.key,
            decision_task=decision,
            reference=f"{state.case_id}/{application.key}",
            started_at=now,
            ask_until=now + figures.unavailable_within,
        )
        return cls(state, case, state.benefit_follow_up)

    @classmethod
    def resume(cls, state: CaseState, case: Case) -> IncomeSystem | None:
        return cls(state, case, state.benefit_follow_up) if state.benefit_follow_up is not None else None

    def figures(self) -> FollowUpFigures | None:
        return self.state.policy.income_follow_up

    def task_key(self) -> str | None:
        return self.progress.decision_task

    def request(self) -> Call[BenefitApplication] | None:
        if self.progress.application_id is not None:
            return None
        notice = self.state.notice
        # Idempotent by the reference: a submission made again finds the application it made.
        return Call(
            IncomeActivities.submit_benefit_application,
            BenefitApplicationRequest(
                reference=self.progress.reference, bsn=notice.person.bsn, municipality=notice.municipality
            ),
            INCOME_SUBMIT,
        )

    def read(self) -> Call[BenefitApplication] | None:
        return Call(
            IncomeActivities.read_benefit_application,
            BenefitApplicationQuery(application_id=self.progress.application_id or ""),
            INCOME_READ,
        )

    def take(self, answer: BenefitApplication) -> None:
        follow = self.progress
        submitted = follow.application_id is None
        follow.application_id = answer.id
        if submitted:
            self.case.changed_by(self.actor, "benefit_application_received", task_key=follow.application_task)
        if answer.status != follow.status and answer.status == "in_review":
            self.case.changed_by(self.actor, "benefit_application_in_review", task_key=follow.application_task)
        follow.status = answer.status
        if answer.status != "decided" or answer.decision is None or answer.decided_on is None:
            return
        follow.decision, follow.decided_on = answer.decision, answer.decided_on
        follow.finished_at = workflow.now()
        decision = self.state.task(follow.decision_task) if follow.decision_task else None
        if decision is not None and decision.status == TaskStatus.OPEN:
            outcome = BenefitDecisionOutcome(decision=answer.decision, decided_on=answer.decided_on)
            self.case.finish(decision, self.actor, outcome)
        self.case.changed_by(self.actor, "benefit_decided", task_key=follow.decision_task)

    def forget(self) -> None:
        # Without consent nothing about income is kept: what the system said goes too.
        self.state.benefit_follow_up = None

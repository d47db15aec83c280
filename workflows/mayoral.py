"""The mayor's track: one workflow per BIJ notice, from its arrival to its evaluation.
Id ``bij-<notice id>``; no personal data in ids or search attributes.

The mayor's office works the playbook of the policy's ``mayoral`` section (the
Handelingskader BIJ): register the notice, gather information, assess the risk to public
order, decide measures, prepare communication, evaluate. Probation's advice to the mayor
is asked for beside the loop (``workflows/follow_ups/mayoral_advice.py``). A notice of a
municipality that acts only where unrest is expected, without unrest expected, is recorded
as received and filtered, and ends there. Nothing here reads or writes an aftercare case.
"""

from __future__ import annotations

from datetime import date, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from workflows.delivery import Outbox
from workflows.follow_ups import SYSTEM_ACTOR, FollowUps, MayoralProbation

with workflow.unsafe.imports_passed_through():
    from activities import ProjectionActivities
    from domain import mayoral
    from domain.errors import ErrorType
    from domain.mayoral import (
        CompleteNoticeTaskInput,
        DateChanged,
        EraseNoticeInput,
        LeaveCancelled,
        MayoralEventInput,
        MayoralNotice,
        MayoralOutcome,
        MayoralTask,
        MeasuresDecided,
        NoticeClosedReason,
        NoticeErasure,
        NoticeKind,
        NoticeReceipt,
        NoticeReDetained,
        NoticeRegistered,
        NoticeState,
        NoticeStatus,
        NoticeSummary,
        Returned,
        RiskAssessed,
        StartNoticeInput,
    )
    from domain.models import (
        AssignTaskInput,
        ClaimTaskInput,
        HistoryEntry,
        Outcome,
        Task,
        TaskStatus,
        local_date,
    )


def _reject(error_type: str, message: str) -> ApplicationError:
    return ApplicationError(message, type=error_type, non_retryable=True)


@workflow.defn
class MayoralNoticeWorkflow:
    @workflow.init
    def __init__(self, input: StartNoticeInput) -> None:
        notice = input.notice
        self._state = input.state or NoticeState(
            workflow_id=notice.workflow_id,
            notice=notice,
            policy=input.policy,
            policy_version=input.policy_version,
            received_at=workflow.now(),
            kind=notice.kind,
            municipality=notice.municipality,
            starts_on=notice.starts_on,
            ends_on=notice.ends_on,
            unrest_expected=notice.unrest_expected,
        )
        self._changed = False
        self._outbox = Outbox(self.changed_by, lambda sent: self._state.notifications.append(sent))
        self._follow_ups = FollowUps()
        if input.state is None:
            state = self._state
            self._log(SYSTEM_ACTOR, "notice_received", detail=f"policy {input.policy_version}")
            if notice.municipality in state.policy.only_unrest_expected and not notice.unrest_expected:
                # The municipality's choice: recorded and counted, not acted on.
                state.status, state.closed_reason = NoticeStatus.FILTERED, NoticeClosedReason.FILTERED
                state.closed_at = workflow.now()
                self._log(SYSTEM_ACTOR, "notice_filtered", detail="acts only where unrest is expected")

    # ------------------------------------------------------------------ run

    @workflow.run
    async def run(self, input: StartNoticeInput) -> NoticeSummary:
        if input.state is None:
            self._follow_ups.start(MayoralProbation.begin(self._state, self))
        else:
            self._follow_ups.start(MayoralProbation.resume(self._state, self))
        while True:
            self._changed = False
            self._refresh()
            self._outbox.start()
            if self._state.closed:
                await self._outbox.finish()
            await self._project()
            if self._state.closed and not self._changed:
                break
            if workflow.info().is_continue_as_new_suggested():
                await self._follow_ups.stop()
                await self._outbox.finish()
                await workflow.wait_condition(lambda: workflow.all_handlers_finished() or self._changed)
                if not self._changed:
                    workflow.continue_as_new(
                        StartNoticeInput(
                            notice=input.notice,
                            policy=self._state.policy,
                            policy_version=self._state.policy_version,
                            state=self._state,
                        )
                    )
                continue
            wake = mayoral.next_wake(self._state, workflow.now())
            timeout = (wake - workflow.now()) if wake else None
            try:
                await workflow.wait_condition(lambda: self._changed, timeout=timeout)
            except TimeoutError:
                self._state.revision += 1
        await self._follow_ups.stop()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._summary()

    async def _project(self) -> None:
        state = self._state
        if state.projected_revision >= state.revision:
            return
        projection = mayoral.project_notice(state)
        await workflow.execute_local_activity_method(
            ProjectionActivities.project_notice,
            projection,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )
        state.projected_revision = max(state.projected_revision, projection.revision)

    async def _projected(self, revision: int) -> None:
        await workflow.wait_condition(lambda: self._state.projected_revision >= revision)

    def _refresh(self) -> None:
        state, now = self._state, workflow.now()
        if not state.closed:
            for task in mayoral.materialize_tasks(state, now):
                self._log(SYSTEM_ACTOR, "task_created", task_key=task.key)
            was_compressed = state.compressed
            mayoral.reschedule(state)
            if state.compressed and not was_compressed:
                days = (state.starts_on - local_date(state.received_at)).days
                self._log(SYSTEM_ACTOR, "plan_compressed", detail=f"{max(days, 0)} days' notice")
            for task in mayoral.retire_obsolete(state, now):
                self._log(SYSTEM_ACTOR, "task_not_applicable", task_key=task.key)
            self._outbox.extend(mayoral.escalate(state, now))
            if mayoral.finished(state, now):
                self._close(NoticeClosedReason.EVALUATED, SYSTEM_ACTOR)

    def changed_by(self, actor: str, action: str, task_key: str | None = None, detail: str | None = None) -> None:
        self._log(actor, action, task_key=task_key, detail=detail)
        self._touch()

    def _touch(self) -> None:
        self._state.revision += 1
        self._refresh()
        self._changed = True

    def _log(self, actor: str, action: str, task_key: str | None = None, detail: str | None = None) -> None:
        self._state.history.append(
            HistoryEntry(at=workflow.now(), actor=actor, action=action, task_key=task_key, detail=detail)
        )

    def _close(self, reason: NoticeClosedReason, actor: str) -> None:
        state = self._state
        state.status, state.closed_reason, state.closed_at = NoticeStatus.CLOSED, reason, workflow.now()
        for task in mayoral.open_tasks(state):
            task.status, task.overdue = TaskStatus.CANCELLED, False
        self._log(actor, "notice_closed", detail=reason.value)

    def _summary(self) -> NoticeSummary:
        s = self._state
        notice_id = s.workflow_id.removeprefix(mayoral.NOTICE_ID_PREFIX)
        return NoticeSummary(notice_id=notice_id, status=s.status, revision=s.revision, closed_reason=s.closed_reason)

    def _today(self) -> date:
        return local_date(workflow.now())

    # ------------------------------------------------------------------ the notice

    @workflow.update
    async def receive_notice(self, notice: MayoralNotice) -> NoticeReceipt:
        """The notice; sent with update-with-start, so a repeat finds this workflow."""
        self._state.notices_received += 1
        created = self._state.notices_received == 1
        if not created:
            self._log("justice_information_service", "notice_repeated")
        await self._projected(self._state.revision)
        return NoticeReceipt(notice_id=notice.notice_id, created=created)

    @receive_notice.validator
    def _validate_notice(self, notice: MayoralNotice) -> None:
        if notice.workflow_id != self._state.workflow_id:
            raise _reject(ErrorType.INVALID_EVENT, "the notice is another notice")
        known = self._state.notice
        if known is not None and notice.person.bsn != known.person.bsn:
            raise _reject(
                ErrorType.NOTICE_CONFLICT,
                f"notice {notice.notice_id} was received before, about another person: nothing was changed",
            )

    # ------------------------------------------------------------------ the playbook's steps

    def _open_task(self, key: str) -> MayoralTask:
        state = self._state
        if state.closed:
            raise _reject(ErrorType.CASE_CLOSED, f"the notice is closed ({state.closed_reason})")
        task = state.task(key)
        if task is None:
            raise _reject(ErrorType.TASK_NOT_FOUND, f"the notice has no task {key!r}")
        if task.status != TaskStatus.OPEN:
            raise _reject(ErrorType.TASK_NOT_OPEN, f"task {key!r} is {task.status.value}")
        return task

    @workflow.update
    async def complete_task(self, input: CompleteNoticeTaskInput) -> MayoralTask:
        state = self._state
        task = self._open_task(input.task_key)
        self.finish(task, input.actor, input.outcome)
        match input.outcome:
            case NoticeRegistered(concerns_municipality=False):
                self._close(NoticeClosedReason.NOT_CONCERNED, input.actor)
            case RiskAssessed():
                state.decision, state.assessed_at = input.outcome.decision, workflow.now()
            case MeasuresDecided():
                state.measure_types = sorted({m.type for m in input.outcome.measures})
        self._touch()
        await self._projected(state.revision)
        return task

    @complete_task.validator
    def _validate_complete_task(self, input: CompleteNoticeTaskInput) -> None:
        task = self._open_task(input.task_key)
        if task.assignee is not None and task.assignee != input.actor:
            raise _reject(
                ErrorType.TASK_ASSIGNED_TO_OTHER, f"task {task.key!r} is assigned to someone else; reassign it first"
            )
        open_prerequisites = [
            key
            for key in task.prerequisites
            if (p := self._state.task(key)) is not None and p.status == TaskStatus.OPEN
        ]
        if open_prerequisites:
            raise _reject(ErrorType.PREREQUISITES_OPEN, f"first complete: {', '.join(open_prerequisites)}")
        outcome = input.outcome
        kind = outcome.kind if outcome is not None else "note"
        if kind != task.outcome_kind:
            raise _reject(
                ErrorType.INVALID_OUTCOME,
                f"task {task.key!r} takes an outcome of kind {task.outcome_kind!r}, not {kind!r}",
            )
        if isinstance(outcome, MeasuresDecided):
            received = local_date(self._state.received_at)
            if any(measure.starts_on < received for measure in outcome.measures):
                raise _reject(ErrorType.INVALID_OUTCOME, "a measure starts before the notice was received")

    def finish(self, task: Task, actor: str, outcome: Outcome | MayoralOutcome | None) -> None:
        task.status, task.outcome = TaskStatus.COMPLETED, outcome  # type: ignore[assignment]
        task.completed_by, task.completed_at = actor, workflow.now()
        if task.assignee is None:
            task.assignee = actor
        self._log(actor, "task_completed", task_key=task.key)

    @workflow.update
    async def claim_task(self, input: ClaimTaskInput) -> MayoralTask:
        task = self._open_task(input.task_key)
        task.assignee = input.actor
        self.changed_by(input.actor, "task_claimed", task_key=task.key)
        await self._projected(self._state.revision)
        return task

    @claim_task.validator
    def _validate_claim_task(self, input: ClaimTaskInput) -> None:
        task = self._open_task(input.task_key)
        if task.assignee not in (None, input.actor):
            raise _reject(ErrorType.TASK_ASSIGNED_TO_OTHER, f"task {task.key!r} is already assigned to someone else")

    @workflow.update
    async def assign_task(self, input: AssignTaskInput) -> MayoralTask:
        task = self._open_task(input.task_key)
        if input.team is not None:
            task.team = input.team
        if input.assignee is not None:
            task.assignee = input.assignee
        self.changed_by(input.actor, "task_assigned", task_key=task.key, detail=task.team)
        await self._projected(self._state.revision)
        return task

    @assign_task.validator
    def _validate_assign_task(self, input: AssignTaskInput) -> None:
        self._open_task(input.task_key)

    # ------------------------------------------------------------------ events

    @workflow.update
    async def record_event(self, input: MayoralEventInput) -> NoticeSummary:
        state, event, actor = self._state, input.event, input.actor
        self._log(actor, event.type)
        match event:
            case DateChanged():
                state.starts_on, state.ends_on = event.starts_on, event.ends_on
            case LeaveCancelled():
                self._close(NoticeClosedReason.LEAVE_CANCELLED, actor)
            case Returned():
                state.returned_on = event.returned_on
            case NoticeReDetained():
                self._close(NoticeClosedReason.RE_DETAINED, actor)
        self._touch()
        await self._projected(state.revision)
        return self._summary()

    @record_event.validator
    def _validate_record_event(self, input: MayoralEventInput) -> None:
        state, event = self._state, input.event
        if state.closed:
            raise _reject(ErrorType.CASE_CLOSED, f"the notice is closed ({state.closed_reason})")
        match event:
            case DateChanged():
                if state.kind == NoticeKind.LEAVE and (event.ends_on is None or event.ends_on < event.starts_on):
                    raise _reject(ErrorType.INVALID_EVENT, "a leave's new dates need ends_on, on or after starts_on")
                if state.kind == NoticeKind.RETURN and event.ends_on is not None:
                    raise _reject(ErrorType.INVALID_EVENT, "a return has no ends_on")
                if state.returned_on is not None:
                    raise _reject(ErrorType.EVENT_NOT_POSSIBLE, "the person has already returned")
            case LeaveCancelled():
                if state.kind != NoticeKind.LEAVE:
                    raise _reject(ErrorType.EVENT_NOT_POSSIBLE, "only a leave can be cancelled")
            case Returned():
                if state.kind != NoticeKind.RETURN:
                    raise _reject(
                        ErrorType.EVENT_NOT_POSSIBLE, "a leave does not return: change its dates or cancel it"
                    )
                if state.returned_on is not None:
                    raise _reject(ErrorType.EVENT_NOT_POSSIBLE, "the return has already been recorded")
                if event.returned_on > self._today():
                    raise _reject(ErrorType.INVALID_EVENT, "returned_on is in the future")

    # ------------------------------------------------------------------ retention

    @workflow.update
    async def erase(self, input: EraseNoticeInput) -> NoticeErasure:
        """Erase the notice's personal and detention data at the end of its term; what is
        kept is anonymous and counts. The notice closes: its purpose has ended. Its runs
        are deleted by the retention pass. Idempotent."""
        state = self._state
        if state.erased_at is None:
            if not state.closed:
                self._close(NoticeClosedReason.ERASED, input.actor)
            state.notice = None
            # The month stays, for the overview; the day of return or leave does not.
            state.starts_on, state.ends_on, state.returned_on = state.starts_on.replace(day=1), None, None
            state.probation_advice = None
            for task in state.tasks:
                task.outcome, task.assignee, task.completed_by, task.guidance = None, None, None, ""
            state.history = [
                HistoryEntry(at=entry.at, actor="-", action=entry.action, task_key=entry.task_key)
                for entry in state.history
            ]
            state.notifications = []
            state.erased_at = workflow.now()
            self.changed_by(input.actor, "notice_erased")
            await self._projected(state.revision)
        return NoticeErasure(workflow_id=state.workflow_id, run_id=workflow.info().run_id)

    @erase.validator
    def _validate_erase(self, input: EraseNoticeInput) -> None:
        """Every erasure is taken (it is idempotent); the validator is where a command's
        signature is checked (``core.signing``), before anything is recorded."""

    # ------------------------------------------------------------------ reads

    @workflow.query
    def state(self) -> NoticeState:
        return self._state

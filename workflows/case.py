"""The case workflow: one per detention episode, from the day-one notice to the end of
aftercare. Id ``case-<detention id>``; no personal data in ids or search attributes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from workflows import search_attributes as sa
from workflows.delivery import Outbox
from workflows.follow_ups import (
    PARTNERS,
    SYSTEM_ACTOR,
    CivilAffairs,
    FollowUps,
    IncomeSystem,
    PopulationRegister,
    Probation,
)

with workflow.unsafe.imports_passed_through():
    from activities import NotificationActivities, ProjectionActivities
    from activities.links import CaseLinkActivities
    from activities.partners.options import NOTIFICATION_DELIVERY
    from domain import planning
    from domain.errors import ErrorType
    from domain.models import (
        CASE_ID_PATTERN,
        LINK_PREVIOUS_CASE,
        MESSAGE_BOX_ACTOR,
        NEXT_CASE_STARTED,
        AssignTaskInput,
        BasicCondition,
        CaseClosedNotice,
        CaseLink,
        CasePlan,
        CaseRisk,
        CaseState,
        CaseSummary,
        ClaimTaskInput,
        ClosedOther,
        ClosedReason,
        CompleteTaskInput,
        ConsentGiven,
        ConsentWithdrawn,
        Deceased,
        DetentionNotice,
        EscalationLevel,
        ExpectedReleaseChanged,
        HistoryEntry,
        Leave,
        LeaveGranted,
        LinkOutcome,
        MovedToMunicipality,
        NextCaseStarted,
        NoticeReceipt,
        Outcome,
        Phase,
        PlanAgreed,
        PlanOutcome,
        PlanStatus,
        PreviousCaseClaim,
        PreviousCaseLinked,
        RecordEventInput,
        ReDetained,
        Released,
        Resident,
        RiskSeen,
        ScreeningOutcome,
        ScreeningRecorded,
        ScreeningStatus,
        SharePlanInput,
        ShareRiskInput,
        StartCaseInput,
        SupportDeclined,
        Task,
        TaskStatus,
        TransferredToPrison,
        as_datetime,
        case_id_for,
        local_date,
    )
    from domain.projection import project
    from domain.retention import EraseOffenceInput, OffenceErasure


# A run's history stays small whatever the case's age, so that a worker picking a case up
# cold replays little: the case continues as new after a change of phase, and once a run
# has this many events. At a timer's wake only (``HANDOVER_AFTER`` without a change), never
# straight after an update: an update that arrives while a run hands over is retried on
# the new run by a real server, but not by the time-skipping test server.
RUN_EVENTS = 400
# How long a run due to hand over waits without a change before it does.
HANDOVER_AFTER = timedelta(minutes=1)


def _reject(error_type: str, message: str) -> ApplicationError:
    return ApplicationError(message, type=error_type, non_retryable=True)


@workflow.defn
class CaseWorkflow:
    @workflow.init
    def __init__(self, input: StartCaseInput) -> None:
        notice = input.notice
        self._state = input.state or CaseState(
            case_id=notice.case_id,
            notice=notice,
            policy=input.case_policy,
            notified_at=workflow.now(),
            prison=notice.prison,
            expected_release=notice.expected_release,
            short_stay=(
                notice.expected_release is not None
                and notice.expected_release - notice.detention_start <= input.case_policy.short_stay_max
            ),
        )
        self._changed = False
        # Reminders and escalations on their way, beside the case's own loop.
        self._outbox = Outbox(self.changed_by, self._state.notifications.append)
        self._search_attributes: dict[str, object] = {}
        # This run's history holds data that has since been erased: hand over to a new run.
        self._renew_run = False
        # The phase this run began in (after its first pass): a run covers one phase at most.
        self._run_phase: Phase | None = None
        # Whether this pass of the loop began with a timer, not with a handler's change.
        self._woke_by_timer = False
        # The conversations with partner systems, beside the case's own loop.
        self._follow_ups = FollowUps()
        if input.state is None:
            self._log(SYSTEM_ACTOR, "case_started", detail=f"policy {input.case_policy.version}")

    # ------------------------------------------------------------------ run

    @workflow.run
    async def run(self, input: StartCaseInput) -> CaseSummary:
        if input.state is None:
            self._follow_ups.start(PopulationRegister.begin(self._state, self))
        else:
            # Continued as new: take up the conversations the last run stopped.
            for partner in PARTNERS:
                self._follow_ups.start(partner.resume(self._state, self))
        while True:
            # Taken before the awaits below: a handler that runs during them sets it again,
            # and the wait at the end of this pass returns at once.
            self._changed = False
            tipping = self._refresh()
            # A mail server that is down holds up no one: the case goes on meanwhile.
            self._outbox.start()
            if self._state.phase == Phase.CLOSED:
                await self._outbox.finish()
            await self._project()
            if not self._state.previous_case_checked and self._state.phase != Phase.CLOSED:
                # After the first projection, so that the notice is answered meanwhile.
                await self._claim_previous_case()
                continue
            if self._state.phase == Phase.CLOSED and not self._changed:
                break
            if self._run_is_done():
                # A conversation still running stops here (an activity does not outlive
                # its run); the next run takes it up again, for the time that is left.
                await self._follow_ups.stop()
                # The outbox is not carried over: what is in it goes out in this run.
                await self._outbox.finish()
                # Drain handlers first: an update accepted but not finished would be lost.
                # A handler that changes the case waits for its projection, which the next
                # pass writes: then go round once more.
                await workflow.wait_condition(lambda: workflow.all_handlers_finished() or self._changed)
                if not self._changed:
                    workflow.continue_as_new(StartCaseInput(notice=self._state.notice, state=self._state))
                continue
            wake = planning.next_wake(self._state, workflow.now(), tipping)
            if self._handover_due():
                # A run due to hand over does so after a quiet moment, at a timer's wake.
                quiet = workflow.now() + HANDOVER_AFTER
                wake = min(wake, quiet) if wake else quiet
            # One timer per case: sleep until the nearest rung, opening or tipping point,
            # or until a handler changes the case, whichever comes first.
            timeout = (wake - workflow.now()) if wake else None
            self._woke_by_timer = False
            try:
                await workflow.wait_condition(lambda: self._changed, timeout=timeout)
            except TimeoutError:
                self._state.revision += 1
                self._woke_by_timer = True
        # Closed: what a partner would still say changes nothing.
        await self._follow_ups.stop()
        state = self._state
        # The team hears that the case closed; the workflow completes only after that, in
        # a later workflow task than the update that closed it, whose caller still waits.
        announcement = CaseClosedNotice(
            case_id=state.case_id,
            municipality=state.notice.municipality,
            reason=state.closed_reason or ClosedReason.OTHER,
            closed_at=state.closed_at or workflow.now(),
            next_case_id=state.next_case_id,
        )
        try:
            await workflow.execute_activity_method(
                NotificationActivities.announce_case_closed, announcement, **NOTIFICATION_DELIVERY.kwargs()
            )
        except ActivityError:
            # The case is closed all the same; the read model and the timeline say so.
            workflow.logger.warning("the closing of %s could not be announced", state.case_id)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._summary()

    def _run_is_done(self) -> bool:
        """Whether this run hands over to a new one: data erased, or Temporal's suggestion;
        at a timer's wake also a new phase, or a history grown to ``RUN_EVENTS``."""
        state, info = self._state, workflow.info()
        if state.phase == Phase.CLOSED:
            return False
        if self._run_phase is None:
            self._run_phase = state.phase
        if self._renew_run or info.is_continue_as_new_suggested():
            return True
        return self._woke_by_timer and self._handover_due()

    def _handover_due(self) -> bool:
        """A new phase since this run began, or a run grown to ``RUN_EVENTS``."""
        state = self._state
        if state.phase == Phase.CLOSED or self._run_phase is None:
            return False
        return state.phase != self._run_phase or workflow.info().get_current_history_length() >= RUN_EVENTS

    # ------------------------------------------------------------------ the person's cases

    async def _link_next_case(self, next_case_id: str) -> LinkOutcome:
        """Ask the new case of a re-detention to take the link, if it exists and is of this
        case's person (``activities.links``)."""
        link = CaseLink(
            previous_case_id=self._state.case_id, next_case_id=next_case_id, bsn=self._state.notice.person.bsn
        )
        try:
            return await workflow.execute_activity_method(
                CaseLinkActivities.link_next_case,
                link,
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=RetryPolicy(maximum_attempts=5),
            )
        except ActivityError:
            return LinkOutcome.NOT_FOUND

    async def _claim_previous_case(self) -> None:
        """A new case: is there a case of the same person that waits for it? That case
        closes as re-detained, and this one links to it."""
        state = self._state
        state.previous_case_checked = True
        claim = PreviousCaseClaim(case_id=state.case_id, bsn=state.notice.person.bsn)
        try:
            previous = await workflow.execute_activity_method(
                CaseLinkActivities.claim_previous_case,
                claim,
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=RetryPolicy(maximum_attempts=5),
            )
        except ActivityError:
            self.changed_by(SYSTEM_ACTOR, "previous_case_not_checked")
            return
        if previous is not None and state.previous_case_id is None:
            state.previous_case_id = previous
            self.changed_by(SYSTEM_ACTOR, "previous_case_linked", detail=previous)

    async def _re_detained(self, input: RecordEventInput, event: ReDetained) -> CaseSummary:
        """Detained again: closes the case once the new case is there and of the same
        person; until then the case waits for it, open, and closes when it starts."""
        state, next_case_id = self._state, case_id_for(event.new_detention_id)
        outcome = await self._link_next_case(next_case_id)
        if outcome == LinkOutcome.OTHER_PERSON:
            raise _reject(
                ErrorType.NOTICE_CONFLICT,
                f"detention {event.new_detention_id} has a case of another person: nothing was changed",
            )
        self._log(input.actor, event.type)
        state.next_case_id = next_case_id
        if outcome == LinkOutcome.NOT_FOUND:
            self._log(SYSTEM_ACTOR, "waiting_for_next_case", detail=next_case_id)
            self._touch()
            # The read model says this case waits before the new case looks for it there;
            # a new case that started in between is found by asking once more.
            await self._projected(state.revision)
            outcome = await self._link_next_case(next_case_id)
            if outcome not in (LinkOutcome.LINKED, LinkOutcome.CLOSED) or state.closed:
                return self._summary()
        if not state.closed:
            self._close(ClosedReason.RE_DETAINED, input.actor)
        self._touch()
        await self._projected(state.revision)
        return self._summary()

    # ------------------------------------------------------------------ the read model

    async def _project(self) -> None:
        """Tell the read model what changed, one revision at a time, in order."""
        state = self._state
        if state.projected_revision >= state.revision:
            return
        projection = project(
            state, history_from=state.projected_history, notifications_from=state.projected_notifications
        )
        history, notifications = len(state.history), len(state.notifications)
        # A local activity: the write runs in this worker without a round trip through
        # the server, and every update waits for it (read-your-writes).
        await workflow.execute_local_activity_method(
            ProjectionActivities.project_case,
            projection,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )
        state.projected_revision = max(state.projected_revision, projection.revision)
        state.projected_history, state.projected_notifications = history, notifications

    async def _projected(self, revision: int) -> None:
        """Read-your-writes: an update answers once the read model shows its change, so a
        caseworker's inbox never shows a task as open that they have just completed."""
        await workflow.wait_condition(lambda: self._state.projected_revision >= revision)

    def _refresh(self) -> datetime | None:
        """Bring derived state up to date with the clock: tasks, due dates, the ladder,
        risk, phase, closing. Called from the run loop and from every handler."""
        state, now = self._state, workflow.now()
        if state.phase != Phase.CLOSED:
            for task in planning.materialize_tasks(state, now):
                self._log(SYSTEM_ACTOR, "task_created", task_key=task.key)
                if (template := state.policy.template(task.key)) is not None and template.outcome == "plan":
                    self._follow_ups.start(Probation.begin(state, self, task))
            self._complete_plan_task()
            planning.reschedule(state)
            for task in planning.retire_obsolete(state, now):
                self._log(SYSTEM_ACTOR, "task_not_applicable", task_key=task.key)
        self._outbox.extend(planning.escalate(state, now))
        tipping = planning.assess_risk(state, now)
        if state.closed_reason is None and (reason := planning.closing_reason(state)):
            self._close(reason, SYSTEM_ACTOR)
        state.phase = planning.phase_for(state)
        self._upsert_search_attributes()
        return tipping

    def _upsert_search_attributes(self) -> None:
        state = self._state
        values = {
            sa.MUNICIPALITY.name: state.notice.municipality,
            sa.PHASE.name: state.phase.value,
            sa.EXPECTED_RELEASE.name: planning.release_instant(state),
            sa.OVERDUE_COUNT.name: state.overdue_count,
            sa.AT_RISK_COUNT.name: state.at_risk_count,
        }
        if values == self._search_attributes:
            return
        self._search_attributes = values
        updates = [
            sa.MUNICIPALITY.value_set(state.notice.municipality),
            sa.PHASE.value_set(state.phase.value),
            sa.OVERDUE_COUNT.value_set(state.overdue_count),
            sa.AT_RISK_COUNT.value_set(state.at_risk_count),
        ]
        release = planning.release_instant(state)
        updates.append(sa.EXPECTED_RELEASE.value_set(release) if release else sa.EXPECTED_RELEASE.value_unset())
        workflow.upsert_search_attributes(updates)

    def changed_by(self, actor: str, action: str, task_key: str | None = None, detail: str | None = None) -> None:
        self._log(actor, action, task_key=task_key, detail=detail)
        self._touch()

    def _touch(self) -> None:
        """A new revision: derived state brought up to date, the run loop woken."""
        self._state.revision += 1
        self._refresh()
        self._changed = True

    def _log(self, actor: str, action: str, task_key: str | None = None, detail: str | None = None) -> None:
        self._state.history.append(
            HistoryEntry(at=workflow.now(), actor=actor, action=action, task_key=task_key, detail=detail)
        )

    def _close(self, reason: ClosedReason, actor: str) -> None:
        state = self._state
        state.closed_reason, state.closed_at = reason, workflow.now()
        for task in planning.open_tasks(state):
            task.status, task.overdue, task.at_risk = TaskStatus.CANCELLED, False, False
        state.phase = Phase.CLOSED
        self._log(actor, "case_closed", detail=reason.value)

    def _summary(self) -> CaseSummary:
        s = self._state
        return CaseSummary(case_id=s.case_id, phase=s.phase, revision=s.revision, closed_reason=s.closed_reason)

    def _today(self) -> date:
        return local_date(workflow.now())

    # ------------------------------------------------------------------ the notice

    @workflow.update
    async def receive_notice(self, notice: DetentionNotice) -> NoticeReceipt:
        """The day-one notice; sent with update-with-start, so a repeat finds this case.
        A new case answers once it is in the read model."""
        self._state.notices_received += 1
        created = self._state.notices_received == 1
        if not created:
            self._log("prison_service", "notice_repeated")
        await self._projected(self._state.revision)
        return NoticeReceipt(case_id=self._state.case_id, created=created)

    @receive_notice.validator
    def _validate_notice(self, notice: DetentionNotice) -> None:
        if notice.case_id != self._state.case_id:
            raise _reject(ErrorType.INVALID_EVENT, "the notice is for another detention")
        if notice.person.bsn != self._state.notice.person.bsn:
            # One detention is one person: a second person under its id is an error at the
            # sender, not a change of person. The case stays as it is.
            raise _reject(
                ErrorType.NOTICE_CONFLICT,
                f"detention {notice.detention_id} already has a case, of another person: nothing was changed;"
                " ask the prison service to correct the notice",
            )

    # ------------------------------------------------------------------ human tasks

    def _open_task(self, key: str) -> Task:
        if self._state.phase == Phase.CLOSED:
            raise _reject(ErrorType.CASE_CLOSED, f"the case is closed ({self._state.closed_reason})")
        task = self._state.task(key)
        if task is None:
            raise _reject(ErrorType.TASK_NOT_FOUND, f"the case has no task {key!r}")
        if task.status != TaskStatus.OPEN:
            raise _reject(ErrorType.TASK_NOT_OPEN, f"task {key!r} is {task.status.value}")
        return task

    @workflow.update
    async def complete_task(self, input: CompleteTaskInput) -> Task:
        task = self._open_task(input.task_key)
        if isinstance(input.outcome, ScreeningOutcome):
            self._apply_screening(input.outcome.conditions)
        self.finish(task, input.actor, input.outcome)
        if task.outcome_kind == "benefit_application":
            self._follow_ups.start(IncomeSystem.begin(self._state, self, task))
        self._touch()
        await self._projected(self._state.revision)
        return task

    @complete_task.validator
    def _validate_complete_task(self, input: CompleteTaskInput) -> None:
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
        if outcome is None:
            if task.outcome_kind != "note":
                raise _reject(
                    ErrorType.INVALID_OUTCOME, f"task {task.key!r} needs an outcome of kind {task.outcome_kind!r}"
                )
            return
        if outcome.kind != task.outcome_kind:
            raise _reject(
                ErrorType.INVALID_OUTCOME,
                f"task {task.key!r} takes an outcome of kind {task.outcome_kind!r}, not {outcome.kind!r}",
            )
        for field in ("contacted_on", "agreed_on", "submitted_on", "decided_on"):
            day = getattr(outcome, field, None)
            if day is not None and day > self._today():
                raise _reject(ErrorType.INVALID_OUTCOME, f"{field} is in the future")

    @workflow.update
    async def claim_task(self, input: ClaimTaskInput) -> Task:
        task = self._open_task(input.task_key)
        task.assignee = input.actor
        self.changed_by(input.actor, "task_claimed", task_key=task.key)
        if task.outcome_kind == "id_document":
            self._follow_ups.start(CivilAffairs.begin(self._state, self, task))
        await self._projected(self._state.revision)
        return task

    @claim_task.validator
    def _validate_claim_task(self, input: ClaimTaskInput) -> None:
        task = self._open_task(input.task_key)
        if task.assignee not in (None, input.actor):
            raise _reject(ErrorType.TASK_ASSIGNED_TO_OTHER, f"task {task.key!r} is already assigned to someone else")

    @workflow.update
    async def assign_task(self, input: AssignTaskInput) -> Task:
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
    async def record_event(self, input: RecordEventInput) -> CaseSummary:
        """Events from outside: an update, not a signal, so that a sender learns at once
        that an event cannot apply (a closed case, a release before detention)."""
        state, event, actor = self._state, input.event, input.actor
        if isinstance(event, ReDetained):
            return await self._re_detained(input, event)
        # The event first in the timeline, then what follows from it.
        self._log(actor, event.type)
        match event:
            case ScreeningRecorded():
                self._apply_screening(event.conditions)
                screening = state.task(state.policy.roles.screening)
                if screening is not None and screening.status == TaskStatus.OPEN:
                    self.finish(screening, actor, ScreeningOutcome(conditions=event.conditions))
            case PlanAgreed():
                plan = state.task(state.policy.roles.plan)
                if plan is not None and plan.status == TaskStatus.OPEN:
                    self.finish(plan, actor, PlanOutcome(agreed_on=event.agreed_on))
            case ExpectedReleaseChanged():
                state.expected_release = event.expected_release
            case Released():
                state.actual_release = event.released_on
                expected = state.expected_release
                margin = state.policy.unexpected_release_margin
                state.release_unexpected = expected is None or (
                    as_datetime(event.released_on) < as_datetime(expected) - margin
                )
                triaged = planning.triage_open_pre_release(state, workflow.now())
                if triaged:
                    self._log(actor, "pre_release_tasks_triaged", detail=", ".join(t.key for t in triaged))
            case LeaveGranted():
                state.leaves.append(Leave(starts_on=event.starts_on, ends_on=event.ends_on))
            case TransferredToPrison():
                state.prison = event.prison
            case MovedToMunicipality():
                state.moved_to = event.municipality
                state.anchors[planning.event_anchor_key("moved")] = workflow.now()
            case SupportDeclined():
                self._close(ClosedReason.DECLINED, actor)
            case ConsentWithdrawn():
                self._apply_screening({event.condition: ScreeningStatus.NO_CONSENT})
            case ConsentGiven():
                self._apply_screening({event.condition: ScreeningStatus.UNKNOWN})
            case Deceased():
                self._close(ClosedReason.DECEASED, actor)
            case ClosedOther():
                self._close(ClosedReason.OTHER, actor)
            case RiskSeen():
                assert state.risk is not None
                state.risk.seen_by, state.risk.seen_at = actor, workflow.now()
        self._touch()
        await self._projected(self._state.revision)
        return self._summary()

    @record_event.validator
    def _validate_record_event(self, input: RecordEventInput) -> None:
        state, event = self._state, input.event
        if state.phase == Phase.CLOSED:
            raise _reject(ErrorType.CASE_CLOSED, f"the case is closed ({state.closed_reason})")
        released = state.actual_release is not None
        start = state.notice.detention_start
        match event:
            case ExpectedReleaseChanged():
                if released:
                    raise _reject(ErrorType.EVENT_NOT_POSSIBLE, "the person has already been released")
                if event.expected_release < start:
                    raise _reject(ErrorType.INVALID_EVENT, "expected_release is before the start of detention")
            case Released():
                if released:
                    raise _reject(ErrorType.EVENT_NOT_POSSIBLE, "the person has already been released")
                if not start <= event.released_on <= self._today():
                    raise _reject(
                        ErrorType.INVALID_EVENT, "released_on must lie between the start of detention and today"
                    )
            case LeaveGranted():
                if released:
                    raise _reject(ErrorType.EVENT_NOT_POSSIBLE, "leave is granted during detention only")
                if event.starts_on < start:
                    raise _reject(ErrorType.INVALID_EVENT, "leave starts before the start of detention")
            case PlanAgreed():
                plan = state.task(state.policy.roles.plan)
                if plan is None or plan.status != TaskStatus.OPEN:
                    raise _reject(ErrorType.EVENT_NOT_POSSIBLE, "the case has no open D&R plan task")
                if event.agreed_on > self._today():
                    raise _reject(ErrorType.INVALID_EVENT, "agreed_on is in the future")
            case ScreeningRecorded() | TransferredToPrison():
                if released:
                    raise _reject(ErrorType.EVENT_NOT_POSSIBLE, "the person has already been released")
                screening = state.task(state.policy.roles.screening)
                if isinstance(event, ScreeningRecorded) and screening and screening.status == TaskStatus.OPEN:
                    # It completes the screening task, whose outcome names every condition.
                    missing = [c.value for c in BasicCondition if c not in event.conditions]
                    if missing:
                        raise _reject(
                            ErrorType.INVALID_EVENT,
                            f"the first screening names every condition; missing: {', '.join(missing)}",
                        )
            case ReDetained():
                if f"case-{event.new_detention_id}" == state.case_id:
                    raise _reject(ErrorType.INVALID_EVENT, "new_detention_id is this case's own detention")
            case RiskSeen():
                if state.risk is None or state.risk.seen_at is not None:
                    raise _reject(ErrorType.EVENT_NOT_POSSIBLE, "the case has no risk information still to be seen")
            case MovedToMunicipality():
                if event.municipality == state.notice.municipality or state.moved_to is not None:
                    raise _reject(
                        ErrorType.EVENT_NOT_POSSIBLE, "the case is already with that municipality or being handed over"
                    )

    def finish(self, task: Task, actor: str, outcome: Outcome | None) -> None:
        """Complete a task; a task whose completion starts a clock records its anchor."""
        task.status, task.outcome = TaskStatus.COMPLETED, outcome
        task.completed_by, task.completed_at = actor, workflow.now()
        if task.assignee is None:
            task.assignee = actor
        template = self._state.policy.template(task.key)
        if template is not None and template.records_anchor:
            recorded = getattr(outcome, "submitted_on", None)
            self._state.anchors[planning.task_anchor_key(task.key)] = (
                as_datetime(recorded) if recorded else workflow.now()
            )
        self._log(actor, "task_completed", task_key=task.key)

    def _apply_screening(self, conditions: dict[BasicCondition, ScreeningStatus]) -> None:
        """Record the screening; without consent nothing about a condition is kept."""
        state = self._state
        for condition, status in conditions.items():
            state.screening[condition] = status
            if status == ScreeningStatus.NO_CONSENT:
                state.condition_flags.pop(condition, None)
                if state.plan is not None:
                    state.plan.forget(condition)
            for task in state.tasks:
                if task.condition != condition:
                    continue
                if status == ScreeningStatus.NO_CONSENT:
                    task.outcome, task.at_risk_reason = None, None
                    state.anchors.pop(planning.task_anchor_key(task.key), None)
                    if task.status == TaskStatus.OPEN:
                        task.status, task.overdue, task.at_risk = TaskStatus.CANCELLED, False, False
                        self._log(SYSTEM_ACTOR, "task_cancelled", task_key=task.key, detail="consent withdrawn")
                elif status in planning.ACTIONABLE and task.status == TaskStatus.CANCELLED:
                    task.status, task.escalation_level = TaskStatus.OPEN, EscalationLevel.NONE
                    self._log(SYSTEM_ACTOR, "task_reopened", task_key=task.key)

    # ------------------------------------------------------------------ what the prison shares

    @workflow.update
    async def share_plan(self, input: SharePlanInput) -> CaseSummary:
        """The shareable D&R plan (art. 18a Pbw), from the message box. A later version
        replaces the one before; nothing is kept about a condition without consent. An
        agreed plan completes the plan task, unless a caseworker did so first."""
        state, shared = self._state, input.plan
        state.plan = CasePlan(
            version=shared.version,
            drawn_up_on=shared.drawn_up_on,
            status=shared.status,
            agreed_on=shared.agreed_on,
            received_at=workflow.now(),
            basic_conditions={c: s for c, s in shared.basic_conditions.items() if not state.consent_withdrawn(c)},
            actions=[a for a in shared.actions if not state.consent_withdrawn(a.condition)],
        )
        self._log(input.actor, "plan_shared", detail=f"version {shared.version}, {shared.status.value}")
        self._complete_plan_task()
        self._touch()
        await self._projected(state.revision)
        return self._summary()

    @share_plan.validator
    def _validate_share_plan(self, input: SharePlanInput) -> None:
        state, shared = self._state, input.plan
        self._for_this_detention(shared.detention_id)
        if state.plan is not None and shared.version <= state.plan.version:
            raise _reject(
                ErrorType.EVENT_NOT_POSSIBLE, f"the case already has version {state.plan.version} of the plan"
            )
        if shared.agreed_on is not None and shared.agreed_on > self._today():
            raise _reject(ErrorType.INVALID_EVENT, "agreed_on is in the future")

    def _complete_plan_task(self) -> None:
        """An agreed shared plan completes an open plan task, as the message box."""
        state, plan = self._state, self._state.plan
        task = state.task(state.policy.roles.plan)
        if plan is None or plan.agreed_on is None or task is None or task.status != TaskStatus.OPEN:
            return
        assert plan.status == PlanStatus.AGREED
        self.finish(task, MESSAGE_BOX_ACTOR, PlanOutcome(agreed_on=plan.agreed_on))

    @workflow.update
    async def share_risk(self, input: ShareRiskInput) -> CaseSummary:
        """Risk information (art. 18b Pbw), from the message box: levels and codes, for
        casework only; until a coordinator has seen it, the case asks for attention."""
        state, risk = self._state, input.risk
        state.risk = CaseRisk(
            assessed_on=risk.assessed_on,
            recidivism=risk.recidivism,
            harm=risk.harm,
            codes=sorted(set(risk.codes)),
            received_at=workflow.now(),
        )
        self._log(input.actor, "risk_information_received")
        self._touch()
        await self._projected(state.revision)
        return self._summary()

    @share_risk.validator
    def _validate_share_risk(self, input: ShareRiskInput) -> None:
        state, risk = self._state, input.risk
        self._for_this_detention(risk.detention_id)
        if state.risk is not None and risk.assessed_on <= state.risk.assessed_on:
            raise _reject(
                ErrorType.EVENT_NOT_POSSIBLE, f"the case already has an assessment of {state.risk.assessed_on}"
            )
        if risk.assessed_on > self._today():
            raise _reject(ErrorType.INVALID_EVENT, "assessed_on is in the future")

    def _for_this_detention(self, detention_id: str) -> None:
        if self._state.phase == Phase.CLOSED:
            raise _reject(ErrorType.CASE_CLOSED, f"the case is closed ({self._state.closed_reason})")
        if detention_id != self._state.notice.detention_id:
            raise _reject(ErrorType.INVALID_EVENT, "the message is about another detention")

    # ------------------------------------------------------------------ retention

    @workflow.update
    async def erase_offence(self, input: EraseOffenceInput) -> OffenceErasure:
        """Erase the offence data of the notice: what a mayoral notice is built from goes
        at the latest six months after release, while the case runs on.

        The state forgets it at once; this run's history still holds it (in its input and
        in earlier projections), so the run continues as new from the erased state, and
        the retention pass deletes the runs before. Idempotent: a second call changes
        nothing and says whether a hand-over is still pending.
        """
        state = self._state
        if state.offence_erased_at is None:
            state.notice = state.notice.model_copy(update={"offence_category": None, "conviction_final": None})
            state.risk = None
            state.offence_erased_at = workflow.now()
            self._renew_run = True
            self.changed_by(input.actor, "offence_data_erased")
            await self._projected(state.revision)
        return OffenceErasure(case_id=state.case_id, run_id=workflow.info().run_id, continuing_as_new=self._renew_run)

    @erase_offence.validator
    def _validate_erase_offence(self, input: EraseOffenceInput) -> None:
        # A closed case does not continue as new: its runs are deleted whole.
        if self._state.phase == Phase.CLOSED:
            raise _reject(ErrorType.CASE_CLOSED, f"the case is closed ({self._state.closed_reason})")

    @workflow.update(name=LINK_PREVIOUS_CASE)
    async def link_previous_case(self, input: PreviousCaseLinked) -> None:
        """The case before this one, of the same person, closed as re-detained."""
        if self._state.previous_case_id == input.previous_case_id:
            return
        self._state.previous_case_id = input.previous_case_id
        self.changed_by(SYSTEM_ACTOR, "previous_case_linked", detail=input.previous_case_id)

    @link_previous_case.validator
    def _validate_link(self, input: PreviousCaseLinked) -> None:
        if not CASE_ID_PATTERN.match(input.previous_case_id):
            raise _reject(ErrorType.EVENT_NOT_POSSIBLE, "the previous case is not a case id")

    @workflow.update(name=NEXT_CASE_STARTED)
    async def next_case_started(self, input: NextCaseStarted) -> None:
        """The new case this case waited for has started, of the same person: closed as
        re-detained."""
        self._close(ClosedReason.RE_DETAINED, SYSTEM_ACTOR)
        self._touch()
        await self._projected(self._state.revision)

    @next_case_started.validator
    def _validate_next_case_started(self, input: NextCaseStarted) -> None:
        state = self._state
        if state.phase == Phase.CLOSED:
            raise _reject(ErrorType.CASE_CLOSED, f"the case is closed ({state.closed_reason})")
        if state.next_case_id != input.next_case_id:
            raise _reject(ErrorType.EVENT_NOT_POSSIBLE, "the case does not wait for that case")

    # ------------------------------------------------------------------ reads

    @workflow.query
    def state(self) -> CaseState:
        return self._state

    @workflow.query
    def resident(self) -> Resident:
        """The resident's name, without the rest of the state: what a list shows."""
        person = self._state.notice.person
        return Resident(
            given_names=person.given_names,
            surname=person.surname,
            municipality=self._state.responsible_municipality,
        )

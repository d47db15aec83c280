"""The case workflow: one per detention episode, from the day-one notice to the end of
aftercare. Id ``case-<detention id>``; no personal data in ids or search attributes.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date, datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ActivityCancellationType

from workflows import search_attributes as sa

with workflow.unsafe.imports_passed_through():
    from activities import NotificationActivities, ProjectionActivities
    from activities.partners.civil_affairs import (
        CivilAffairsActivities,
        IdAppointment,
        IdAppointmentQuery,
        IdAppointmentRequest,
    )
    from activities.partners.errors import NotFound, RequestRejected
    from activities.partners.income import (
        BenefitApplication,
        BenefitApplicationQuery,
        BenefitApplicationRequest,
        IncomeActivities,
    )
    from activities.partners.options import (
        CIVIL_AFFAIRS_BOOK,
        CIVIL_AFFAIRS_READ,
        INCOME_READ,
        INCOME_SUBMIT,
        POPULATION_REGISTER_LOOKUP,
        PROBATION_READ,
    )
    from activities.partners.population_register import PopulationRegisterActivities, RegistrationCheck
    from activities.partners.probation import ProbationActivities, ProbationQuery, ProbationStatus
    from domain import civil_affairs, planning, probation
    from domain.civil_affairs import IdDocumentFollowUp, IdFollowUpFailure
    from domain.errors import ErrorType
    from domain.income import (
        FAILURE_REASONS,
        FOLLOW_UP_FAILED_EVENT,
        BenefitFollowUp,
        IncomeFollowUpFailure,
        next_working_day_at,
    )
    from domain.models import (
        LOCAL_TIME,
        AssignTaskInput,
        BasicCondition,
        BenefitDecisionOutcome,
        CaseClosedNotice,
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
        IdDocumentOutcome,
        Leave,
        LeaveGranted,
        MovedToMunicipality,
        NoticeReceipt,
        Notification,
        Outcome,
        Phase,
        PlanAgreed,
        PlanOutcome,
        PreviousCaseLinked,
        RecordEventInput,
        ReDetained,
        Released,
        ScreeningOutcome,
        ScreeningRecorded,
        ScreeningStatus,
        StartCaseInput,
        SupportDeclined,
        Task,
        TaskStatus,
        TransferredToPrison,
        as_datetime,
        local_date,
    )
    from domain.probation import ProbationAdvice, ProbationAdviceFailure
    from domain.projection import project
    from domain.registration import CHECK_FAILED_EVENT, Registration, RegistrationFailure, RegistrationLookup
    from domain.retention import EraseOffenceInput, OffenceErasure

SYSTEM_ACTOR = "reentry"
# Cases started before the read model existed replay without projection activities.
READ_MODEL_PATCH = "read-model-projection"
# Cases that had their offence data erased (retention) continue as new without it.
OFFENCE_ERASURE_PATCH = "offence-erasure"
# Cases that ask the population register where the person is registered.
REGISTRATION_PATCH = "population-register-check"
# Cases that deliver reminders and escalations beside their own loop, within a bound.
DELIVERY_PATCH = "notification-delivery-beside-the-loop"
# How long a reminder, an escalation or the news of closing is tried (mail or Open
# Notificaties down) before the case records that it was not delivered and goes on.
DELIVERY_WITHIN = timedelta(days=1)
# Who the case's timeline names for what the population register said.
REGISTER_ACTOR = "population_register"
# The register refused the request as wrong: no retry mends it.
REQUEST_REJECTED_TYPES = {RequestRejected.type, NotFound.type}
# Cases that submit the benefit application to the income system and follow its decision.
INCOME_PATCH = "income-benefit-follow-up"
# Who the case's timeline names for what the income system said and decided.
INCOME_ACTOR = "income_system"
# Cases that book the ID appointment at civil affairs and follow the document until ready.
CIVIL_AFFAIRS_PATCH = "civil-affairs-follow-up"
# Who the case's timeline names for what civil affairs said.
CIVIL_AFFAIRS_ACTOR = "civil_affairs"
# Cases that ask probation for its advice for the plan and record it once issued.
PROBATION_PATCH = "probation-advice"
# Who the case's timeline names for what probation said.
PROBATION_ACTOR = "probation"


def _reject(error_type: str, message: str) -> ApplicationError:
    return ApplicationError(message, type=error_type, non_retryable=True)


def _rejected(err: ActivityError) -> bool:
    """Whether a partner refused the request as wrong: asking again cannot help."""
    cause = err.cause
    return isinstance(cause, ApplicationError) and cause.type in REQUEST_REJECTED_TYPES


@workflow.defn
class CaseWorkflow:
    @workflow.init
    def __init__(self, input: StartCaseInput) -> None:
        notice = input.notice
        self._state = input.state or CaseState(
            case_id=notice.case_id,
            notice=notice,
            policy=input.policy,
            notified_at=workflow.now(),
            prison=notice.prison,
            expected_release=notice.expected_release,
            short_stay=(
                notice.expected_release is not None
                and notice.expected_release - notice.detention_start <= input.policy.short_stay_max
            ),
        )
        self._changed = False
        self._outbox: list[Notification] = []
        # Reminders and escalations on their way, beside the case's own loop.
        self._delivery: asyncio.Task[None] | None = None
        self._search_attributes: dict[str, object] = {}
        # This run's history holds data that has since been erased: hand over to a new run.
        self._renew_run = False
        # The population register's check, while it runs beside the case's own loop.
        self._registration_check: asyncio.Task[None] | None = None
        self._registration_check_stopped = False
        # The follow-up of the benefit application in the income system, beside the loop.
        self._benefit_follow_up: asyncio.Task[None] | None = None
        self._benefit_follow_up_stopped = False
        # The follow-up of the ID document at civil affairs, beside the loop.
        self._id_follow_up: asyncio.Task[None] | None = None
        self._id_follow_up_stopped = False
        # The request for probation's advice for the plan, beside the loop.
        self._probation_advice: asyncio.Task[None] | None = None
        self._probation_advice_stopped = False
        if input.state is None:
            self._log(SYSTEM_ACTOR, "case_started", detail=f"policy {input.policy.version}")

    # ------------------------------------------------------------------ run

    @workflow.run
    async def run(self, input: StartCaseInput) -> CaseSummary:
        self._start_registration_check(new_case=input.state is None)
        self._resume_benefit_follow_up()
        self._resume_id_follow_up()
        self._resume_probation_advice()
        while True:
            # Taken before the awaits below: a handler that runs during them sets it again,
            # and the wait at the end of this pass returns at once.
            self._changed = False
            tipping = self._refresh()
            if workflow.patched(DELIVERY_PATCH):
                # A mail server that is down holds up no one: the case goes on meanwhile.
                self._start_delivery()
                if self._state.phase == Phase.CLOSED:
                    await self._finish_delivery()
            else:
                await self._deliver_notifications()
            await self._project()
            if self._state.phase == Phase.CLOSED and not self._changed:
                break
            if self._renew_run or workflow.info().is_continue_as_new_suggested():
                # A registration check still running stops here (an activity does not
                # outlive its run); the next run asks again, for the time that is left.
                await self._stop_registration_check()
                await self._stop_benefit_follow_up()
                await self._stop_id_follow_up()
                await self._stop_probation_advice()
                # The outbox is not carried over: what is in it goes out in this run.
                await self._finish_delivery()
                # Drain handlers first: an update accepted but not finished would be lost.
                # A handler that changes the case waits for its projection, which the next
                # pass writes: then go round once more.
                await workflow.wait_condition(lambda: workflow.all_handlers_finished() or self._changed)
                if not self._changed:
                    workflow.continue_as_new(
                        StartCaseInput(notice=self._state.notice, policy=self._state.policy, state=self._state)
                    )
                continue
            wake = planning.next_wake(self._state, workflow.now(), tipping)
            # One timer per case: sleep until the nearest rung, opening or tipping point,
            # or until a handler changes the case, whichever comes first.
            timeout = (wake - workflow.now()) if wake else None
            try:
                await workflow.wait_condition(lambda: self._changed, timeout=timeout)
            except TimeoutError:
                self._state.revision += 1
        # Closed: what the register would still say changes nothing.
        await self._stop_registration_check()
        await self._stop_benefit_follow_up()
        await self._stop_id_follow_up()
        await self._stop_probation_advice()
        if self._state.next_case_id:
            await self._link_next_case()
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
        if workflow.patched(DELIVERY_PATCH):
            try:
                await workflow.execute_activity_method(
                    NotificationActivities.announce_case_closed, announcement, **self._delivery_options()
                )
            except ActivityError:
                # The case is closed all the same; the read model and the timeline say so.
                workflow.logger.warning("the closing of %s could not be announced", state.case_id)
        else:
            await workflow.execute_activity_method(
                NotificationActivities.announce_case_closed,
                announcement,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
            )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._summary()

    async def _link_next_case(self) -> None:
        handle = workflow.get_external_workflow_handle_for(CaseWorkflow.run, self._state.next_case_id or "")
        try:
            await handle.signal(
                CaseWorkflow.link_previous_case, PreviousCaseLinked(previous_case_id=self._state.case_id)
            )
        except Exception:
            # The new case may not have been started yet: the link stays on this side.
            self._log(SYSTEM_ACTOR, "next_case_not_found", detail=self._state.next_case_id)

    # ------------------------------------------------------------------ the population register

    def _start_registration_check(self, *, new_case: bool) -> None:
        """Ask the register where the person is registered: a new case whose policy says so,
        or a run continued as new while the check was running."""
        state = self._state
        within = state.policy.registration_check_within
        # Guarded by a patch: cases started before the check existed replay without it.
        if new_case and within is not None and workflow.patched(REGISTRATION_PATCH):
            state.registration = RegistrationLookup(started_at=workflow.now(), wait_until=workflow.now() + within)
        lookup = state.registration
        if lookup is not None and lookup.running and workflow.patched(REGISTRATION_PATCH):
            # A task beside the run loop, not an await in it: while the register is retried
            # (for up to a day), timers fire, updates are answered and projections written.
            self._registration_check = asyncio.create_task(self._check_registration(lookup))

    async def _check_registration(self, lookup: RegistrationLookup) -> None:
        notice = self._state.notice
        left = lookup.wait_until - workflow.now()
        result: Registration | None = None
        failure: RegistrationFailure | None = None
        if left <= timedelta(0):
            failure = RegistrationFailure.UNAVAILABLE
        else:
            try:
                # The BSN travels only in the (encrypted) input; the schedule-to-close
                # timeout is the policy's bound: retried with backoff until then.
                result = await workflow.execute_activity_method(
                    PopulationRegisterActivities.check_registration,
                    RegistrationCheck(bsn=notice.person.bsn, municipality=notice.municipality),
                    **{**POPULATION_REGISTER_LOOKUP.kwargs(), "schedule_to_close_timeout": left},
                    # Stopped (closed, or continuing as new): the run goes on once the server
                    # has the activity cancelled, so that nothing of it outlives the run.
                    cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                )
            except ActivityError as err:
                # Never a failed case: a register that stays down, or refuses the request,
                # becomes a caseworker's task.
                cause = err.cause
                rejected = isinstance(cause, ApplicationError) and cause.type in REQUEST_REJECTED_TYPES
                failure = RegistrationFailure.REQUEST_REJECTED if rejected else RegistrationFailure.UNAVAILABLE
        if self._registration_check_stopped:
            return
        self._record_registration(lookup, result, failure)

    async def _stop_registration_check(self) -> None:
        """Cancel a running check and wait until it has stopped; a check that went wrong in
        the code (not at the register) fails the workflow task, to be fixed and replayed."""
        check = self._registration_check
        if check is None:
            return
        if not check.done():
            self._registration_check_stopped = True
            check.cancel()
            await workflow.wait_condition(check.done)
        if not check.cancelled() and (error := check.exception()) is not None:
            raise error

    def _record_registration(
        self, lookup: RegistrationLookup, result: Registration | None, failure: RegistrationFailure | None
    ) -> None:
        state, now = self._state, workflow.now()
        lookup.result, lookup.failure, lookup.finished_at = result, failure, now
        if failure is not None or result is None:
            state.anchors[planning.event_anchor_key(CHECK_FAILED_EVENT)] = now
            reason = (
                "the population register refused the request: check the address by hand"
                if failure == RegistrationFailure.REQUEST_REJECTED
                else "population register unavailable: check the address by hand"
            )
            self._changed_by(SYSTEM_ACTOR, CHECK_FAILED_EVENT, detail=reason)
            return
        match result.status:
            case "registered_here":
                self._changed_by(REGISTER_ACTOR, "registration_confirmed", detail=result.municipality)
            case "registered_elsewhere":
                # The same course as a reported move: a transfer task, closed as moved when done.
                if state.phase != Phase.CLOSED and state.moved_to is None and result.municipality:
                    state.moved_to = result.municipality
                    state.anchors[planning.event_anchor_key("moved")] = now
                self._changed_by(REGISTER_ACTOR, "registered_elsewhere", detail=result.municipality)
            case "no_known_address":
                # Registered in the RNI, or the address is unknown: housing was most likely lost
                # during detention. Flagged for the screening, not a task: whether housing needs
                # action, and consent to act on it, is the screening's to say.
                if state.screening.get(BasicCondition.HOUSING) != ScreeningStatus.NO_CONSENT:
                    state.condition_flags[BasicCondition.HOUSING] = "no known address in the population register"
                self._changed_by(REGISTER_ACTOR, "registration_no_known_address")
            case "not_found":
                self._changed_by(REGISTER_ACTOR, "registration_not_found")

    # ------------------------------------------------------------------ the income system

    def _start_benefit_follow_up(self, application: Task) -> None:
        """The caseworker completed the application task: submit it and follow it, when
        the case's policy says so."""
        state = self._state
        figures = state.policy.income_follow_up
        # Guarded by a patch: cases from before the follow-up existed replay without it.
        if figures is None or state.benefit_follow_up is not None or not workflow.patched(INCOME_PATCH):
            return
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
            submit_until=now + figures.unavailable_within,
        )
        self._resume_benefit_follow_up()

    def _resume_benefit_follow_up(self) -> None:
        follow = self._state.benefit_follow_up
        if follow is not None and follow.running and workflow.patched(INCOME_PATCH):
            # A task beside the run loop, not an await in it: the application is followed
            # for weeks while timers fire, updates are answered and projections written.
            self._benefit_follow_up = asyncio.create_task(self._follow_benefit_application(follow))

    def _benefit_follow_up_needless(self, follow: BenefitFollowUp) -> str | None:
        """Why following the application no longer helps the case, if it does not."""
        state = self._state
        if state.phase == Phase.CLOSED:
            return "case closed"
        if state.screening.get(BasicCondition.INCOME) == ScreeningStatus.NO_CONSENT:
            return "consent withdrawn"
        decision = state.task(follow.decision_task) if follow.decision_task else None
        if decision is not None and decision.status != TaskStatus.OPEN:
            return f"decision {decision.status.value}"
        return None

    async def _follow_benefit_application(self, follow: BenefitFollowUp) -> None:
        figures = self._state.policy.income_follow_up
        assert figures is not None
        while follow.running:
            if follow.application_id is None:
                answer, failure = await self._submit_benefit_application(follow)
            else:
                wait = (follow.next_read_at or workflow.now()) - workflow.now()
                if wait > timedelta(0):
                    # Woken early when the follow-up stops helping (a caseworker recorded
                    # the decision, consent was withdrawn): no timer outlives its purpose.
                    with contextlib.suppress(TimeoutError):
                        await workflow.wait_condition(
                            lambda: self._benefit_follow_up_needless(follow) is not None, timeout=wait
                        )
                answer, failure = await self._read_benefit_application(follow, figures.unavailable_within)
            if self._benefit_follow_up_stopped:
                return
            if (reason := self._benefit_follow_up_needless(follow)) is not None:
                self._end_benefit_follow_up(follow, reason)
            elif failure is not None:
                self._benefit_follow_up_failed(follow, failure)
            elif answer is not None:
                self._take_benefit_answer(follow, answer)
            if follow.running:
                follow.next_read_at = next_working_day_at(workflow.now(), figures.read_at, LOCAL_TIME)

    async def _submit_benefit_application(
        self, follow: BenefitFollowUp
    ) -> tuple[BenefitApplication | None, IncomeFollowUpFailure | None]:
        notice = self._state.notice
        left = follow.submit_until - workflow.now()
        if left <= timedelta(0):
            return None, IncomeFollowUpFailure.SUBMISSION_UNAVAILABLE
        try:
            # Idempotent by the reference: a submission retried after a lost answer, or made
            # again by the next run, finds the application it made. The BSN travels only in
            # the (encrypted) input.
            answer = await workflow.execute_activity_method(
                IncomeActivities.submit_benefit_application,
                BenefitApplicationRequest(
                    reference=follow.reference, bsn=notice.person.bsn, municipality=notice.municipality
                ),
                **{**INCOME_SUBMIT.kwargs(), "schedule_to_close_timeout": left},
                cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            )
        except ActivityError as err:
            if _rejected(err):
                return None, IncomeFollowUpFailure.SUBMISSION_REJECTED
            return None, IncomeFollowUpFailure.SUBMISSION_UNAVAILABLE
        return answer, None

    async def _read_benefit_application(
        self, follow: BenefitFollowUp, bound: timedelta
    ) -> tuple[BenefitApplication | None, IncomeFollowUpFailure | None]:
        asked = workflow.now()
        try:
            answer = await workflow.execute_activity_method(
                IncomeActivities.read_benefit_application,
                BenefitApplicationQuery(application_id=follow.application_id or ""),
                **INCOME_READ.kwargs(),
                cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            )
        except ActivityError as err:
            if _rejected(err):
                return None, IncomeFollowUpFailure.STATUS_REJECTED
            # A read that fails is made good by the next one, until the bound has passed.
            follow.unavailable_since = follow.unavailable_since or asked
            if workflow.now() - follow.unavailable_since >= bound:
                return None, IncomeFollowUpFailure.STATUS_UNAVAILABLE
            return None, None
        follow.unavailable_since = None
        return answer, None

    def _take_benefit_answer(self, follow: BenefitFollowUp, answer: BenefitApplication) -> None:
        state = self._state
        submitted = follow.application_id is None
        follow.application_id = answer.id
        if submitted:
            self._changed_by(INCOME_ACTOR, "benefit_application_received", task_key=follow.application_task)
        if answer.status != follow.status and answer.status == "in_review":
            self._changed_by(INCOME_ACTOR, "benefit_application_in_review", task_key=follow.application_task)
        follow.status = answer.status
        if answer.status != "decided" or answer.decision is None or answer.decided_on is None:
            return
        follow.decision, follow.decided_on = answer.decision, answer.decided_on
        follow.finished_at = workflow.now()
        decision = state.task(follow.decision_task) if follow.decision_task else None
        if decision is not None and decision.status == TaskStatus.OPEN:
            self._finish(
                decision, INCOME_ACTOR, BenefitDecisionOutcome(decision=answer.decision, decided_on=answer.decided_on)
            )
        self._changed_by(INCOME_ACTOR, "benefit_decided", task_key=follow.decision_task)

    def _end_benefit_follow_up(self, follow: BenefitFollowUp, reason: str) -> None:
        state = self._state
        follow.finished_at = workflow.now()
        if reason == "consent withdrawn":
            # Without consent nothing about income is kept: what the system said goes too.
            state.benefit_follow_up = None
        self._changed_by(SYSTEM_ACTOR, "benefit_follow_up_ended", task_key=follow.decision_task, detail=reason)

    def _benefit_follow_up_failed(self, follow: BenefitFollowUp, failure: IncomeFollowUpFailure) -> None:
        """Never a failed or stuck case: an application the income system does not take or
        answer becomes a caseworker's task."""
        now = workflow.now()
        follow.failure, follow.finished_at = failure, now
        self._state.anchors[planning.event_anchor_key(FOLLOW_UP_FAILED_EVENT)] = now
        self._changed_by(SYSTEM_ACTOR, FOLLOW_UP_FAILED_EVENT, detail=FAILURE_REASONS[failure])

    async def _stop_benefit_follow_up(self) -> None:
        """Cancel a running follow-up and wait until it has stopped (see the registration
        check); the next run takes it up again from the state."""
        follow = self._benefit_follow_up
        if follow is None:
            return
        if not follow.done():
            self._benefit_follow_up_stopped = True
            follow.cancel()
            await workflow.wait_condition(follow.done)
        if not follow.cancelled() and (error := follow.exception()) is not None:
            raise error

    # ------------------------------------------------------------------ civil affairs

    def _start_id_follow_up(self, task: Task) -> None:
        """A caseworker took the ID document on: book the appointment and follow the
        document, when the case's policy says so."""
        state = self._state
        figures = state.policy.civil_affairs_follow_up
        # Guarded by a patch: cases from before the follow-up existed replay without it.
        if figures is None or state.id_document_follow_up is not None or not workflow.patched(CIVIL_AFFAIRS_PATCH):
            return
        now = workflow.now()
        state.id_document_follow_up = IdDocumentFollowUp(
            task=task.key,
            reference=f"{state.case_id}/{task.key}",
            started_at=now,
            book_until=now + figures.unavailable_within,
        )
        self._resume_id_follow_up()

    def _resume_id_follow_up(self) -> None:
        follow = self._state.id_document_follow_up
        if follow is not None and follow.running and workflow.patched(CIVIL_AFFAIRS_PATCH):
            # Beside the run loop, like the income follow-up: the document is followed for
            # days while timers fire, updates are answered and projections written.
            self._id_follow_up = asyncio.create_task(self._follow_id_document(follow))

    def _id_follow_up_needless(self, follow: IdDocumentFollowUp) -> str | None:
        """Why following the document no longer helps the case, if it does not."""
        state = self._state
        if state.phase == Phase.CLOSED:
            return "case closed"
        if state.screening.get(BasicCondition.ID_DOCUMENT) == ScreeningStatus.NO_CONSENT:
            return "consent withdrawn"
        task = state.task(follow.task)
        if task is not None and task.status != TaskStatus.OPEN:
            return f"task {task.status.value}"
        return None

    async def _follow_id_document(self, follow: IdDocumentFollowUp) -> None:
        figures = self._state.policy.civil_affairs_follow_up
        assert figures is not None
        while follow.running:
            if follow.appointment_id is None:
                answer, failure = await self._book_id_appointment(follow)
            else:
                wait = (follow.next_read_at or workflow.now()) - workflow.now()
                if wait > timedelta(0):
                    # Woken early when a caseworker completed the task, consent was
                    # withdrawn or the case closed: no timer outlives its purpose.
                    with contextlib.suppress(TimeoutError):
                        await workflow.wait_condition(
                            lambda: self._id_follow_up_needless(follow) is not None, timeout=wait
                        )
                answer, failure = await self._read_id_appointment(follow, figures.unavailable_within)
            if self._id_follow_up_stopped:
                return
            if (reason := self._id_follow_up_needless(follow)) is not None:
                self._end_id_follow_up(follow, reason)
            elif failure is not None:
                self._id_follow_up_failed(follow, failure)
            elif answer is not None:
                self._take_id_answer(follow, answer)
            if follow.running:
                follow.next_read_at = next_working_day_at(workflow.now(), figures.read_at, LOCAL_TIME)

    async def _book_id_appointment(
        self, follow: IdDocumentFollowUp
    ) -> tuple[IdAppointment | None, IdFollowUpFailure | None]:
        notice = self._state.notice
        left = follow.book_until - workflow.now()
        if left <= timedelta(0):
            return None, IdFollowUpFailure.BOOKING_UNAVAILABLE
        try:
            # Idempotent by the reference: a booking retried after a lost answer, or made
            # again by the next run, finds the appointment it made. The BSN travels only in
            # the (encrypted) input.
            answer = await workflow.execute_activity_method(
                CivilAffairsActivities.book_id_appointment,
                IdAppointmentRequest(
                    reference=follow.reference, bsn=notice.person.bsn, municipality=notice.municipality
                ),
                **{**CIVIL_AFFAIRS_BOOK.kwargs(), "schedule_to_close_timeout": left},
                cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            )
        except ActivityError as err:
            if _rejected(err):
                return None, IdFollowUpFailure.BOOKING_REJECTED
            return None, IdFollowUpFailure.BOOKING_UNAVAILABLE
        return answer, None

    async def _read_id_appointment(
        self, follow: IdDocumentFollowUp, bound: timedelta
    ) -> tuple[IdAppointment | None, IdFollowUpFailure | None]:
        asked = workflow.now()
        try:
            answer = await workflow.execute_activity_method(
                CivilAffairsActivities.read_id_appointment,
                IdAppointmentQuery(appointment_id=follow.appointment_id or ""),
                **CIVIL_AFFAIRS_READ.kwargs(),
                cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            )
        except ActivityError as err:
            if _rejected(err):
                return None, IdFollowUpFailure.STATUS_REJECTED
            # A read that fails is made good by the next one, until the bound has passed.
            follow.unavailable_since = follow.unavailable_since or asked
            if workflow.now() - follow.unavailable_since >= bound:
                return None, IdFollowUpFailure.STATUS_UNAVAILABLE
            return None, None
        follow.unavailable_since = None
        return answer, None

    def _take_id_answer(self, follow: IdDocumentFollowUp, answer: IdAppointment) -> None:
        booked = follow.appointment_id is None
        follow.appointment_id, follow.appointment_at, follow.document = answer.id, answer.starts_at, answer.document
        follow.document_status = answer.document_status
        if booked:
            detail = f"{local_date(answer.starts_at).isoformat()}, {answer.location}"
            self._changed_by(CIVIL_AFFAIRS_ACTOR, "id_appointment_booked", task_key=follow.task, detail=detail)
        if answer.document_status != "ready" or answer.ready_on is None:
            return
        follow.ready_on, follow.finished_at = answer.ready_on, workflow.now()
        task = self._state.task(follow.task)
        if task is not None and task.status == TaskStatus.OPEN:
            self._finish(
                task, CIVIL_AFFAIRS_ACTOR, IdDocumentOutcome(document=answer.document, ready_on=answer.ready_on)
            )
        self._changed_by(CIVIL_AFFAIRS_ACTOR, "id_document_ready", task_key=follow.task)

    def _end_id_follow_up(self, follow: IdDocumentFollowUp, reason: str) -> None:
        follow.finished_at = workflow.now()
        if reason == "consent withdrawn":
            # Without consent nothing about the ID document is kept.
            self._state.id_document_follow_up = None
        self._changed_by(SYSTEM_ACTOR, "id_follow_up_ended", task_key=follow.task, detail=reason)

    def _id_follow_up_failed(self, follow: IdDocumentFollowUp, failure: IdFollowUpFailure) -> None:
        """Never a failed or stuck case: an appointment civil affairs does not make or
        answer becomes a caseworker's task."""
        now = workflow.now()
        follow.failure, follow.finished_at = failure, now
        self._state.anchors[planning.event_anchor_key(civil_affairs.FOLLOW_UP_FAILED_EVENT)] = now
        self._changed_by(
            SYSTEM_ACTOR, civil_affairs.FOLLOW_UP_FAILED_EVENT, detail=civil_affairs.FAILURE_REASONS[failure]
        )

    async def _stop_id_follow_up(self) -> None:
        """Cancel a running follow-up and wait until it has stopped (see the registration
        check); the next run takes it up again from the state."""
        follow = self._id_follow_up
        if follow is None:
            return
        if not follow.done():
            self._id_follow_up_stopped = True
            follow.cancel()
            await workflow.wait_condition(follow.done)
        if not follow.cancelled() and (error := follow.exception()) is not None:
            raise error

    # ------------------------------------------------------------------ probation

    def _start_probation_advice(self, plan: Task) -> None:
        """The plan task was created: ask probation for its advice, when the case's policy
        says so."""
        state = self._state
        # Guarded by a patch: cases from before the request existed replay without it.
        if (
            state.policy.probation_advice is None
            or state.probation_advice is not None
            or not workflow.patched(PROBATION_PATCH)
        ):
            return
        state.probation_advice = ProbationAdvice(task=plan.key, started_at=workflow.now())
        self._resume_probation_advice()

    def _resume_probation_advice(self) -> None:
        advice = self._state.probation_advice
        if advice is not None and advice.running and workflow.patched(PROBATION_PATCH):
            # Beside the run loop, like the income follow-up: the advice takes weeks, while
            # timers fire, updates are answered and projections written.
            self._probation_advice = asyncio.create_task(self._ask_probation(advice))

    def _probation_advice_needless(self, advice: ProbationAdvice) -> bool:
        """Whether the advice no longer helps the plan: the case closed, or the plan task
        is no longer open (agreed, or not needed)."""
        state = self._state
        plan = state.task(advice.task)
        return state.phase == Phase.CLOSED or plan is None or plan.status != TaskStatus.OPEN

    async def _ask_probation(self, advice: ProbationAdvice) -> None:
        figures = self._state.policy.probation_advice
        assert figures is not None
        while advice.running:
            wait = (advice.next_read_at or workflow.now()) - workflow.now()
            if wait > timedelta(0):
                # Woken early when the advice stops helping: no timer outlives its purpose.
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(lambda: self._probation_advice_needless(advice), timeout=wait)
            answer: ProbationStatus | None = None
            failure: ProbationAdviceFailure | None = None
            if not self._probation_advice_needless(advice):
                answer, failure = await self._read_probation_advice(advice, figures.unavailable_within)
            if self._probation_advice_stopped:
                return
            if self._probation_advice_needless(advice):
                # Quietly: the plan task says what became of the plan.
                advice.finished_at = workflow.now()
                return
            if failure is not None:
                self._probation_advice_failed(advice, failure)
            elif answer is not None:
                self._take_probation_answer(advice, answer)
            if advice.running:
                advice.next_read_at = next_working_day_at(workflow.now(), figures.read_at, LOCAL_TIME)

    async def _read_probation_advice(
        self, advice: ProbationAdvice, bound: timedelta
    ) -> tuple[ProbationStatus | None, ProbationAdviceFailure | None]:
        asked = workflow.now()
        try:
            # The detention id is all probation is told.
            answer = await workflow.execute_activity_method(
                ProbationActivities.read_probation_advice,
                ProbationQuery(detention_id=self._state.notice.detention_id),
                **PROBATION_READ.kwargs(),
                cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            )
        except ActivityError as err:
            if _rejected(err):
                return None, ProbationAdviceFailure.REJECTED
            # A read that fails is made good by the next one, until the bound has passed.
            advice.unavailable_since = advice.unavailable_since or asked
            if workflow.now() - advice.unavailable_since >= bound:
                return None, ProbationAdviceFailure.UNAVAILABLE
            return None, None
        advice.unavailable_since = None
        return answer, None

    def _take_probation_answer(self, advice: ProbationAdvice, answer: ProbationStatus) -> None:
        found = answer.advice
        advice.requested_on = found.requested_on
        if found.status != "issued" or found.recommendation is None:
            return
        advice.issued_on = found.issued_on
        advice.kind = probation.ADVICE_KINDS[found.recommendation]
        advice.supervision = answer.supervision.status
        advice.special_conditions = list(found.special_conditions)
        advice.finished_at = workflow.now()
        # No free text: what was advised is in the case, the timeline only says it came.
        self._changed_by(PROBATION_ACTOR, "probation_advice_received", task_key=advice.task)

    def _probation_advice_failed(self, advice: ProbationAdvice, failure: ProbationAdviceFailure) -> None:
        """Never a failed or stuck case, and no task: the caseworker agrees the plan with
        probation and asks for the advice there."""
        advice.failure, advice.finished_at = failure, workflow.now()
        self._changed_by(
            SYSTEM_ACTOR, "probation_advice_failed", task_key=advice.task, detail=probation.FAILURE_REASONS[failure]
        )

    async def _stop_probation_advice(self) -> None:
        """Cancel a running request and wait until it has stopped (see the registration
        check); the next run takes it up again from the state."""
        asking = self._probation_advice
        if asking is None:
            return
        if not asking.done():
            self._probation_advice_stopped = True
            asking.cancel()
            await workflow.wait_condition(asking.done)
        if not asking.cancelled() and (error := asking.exception()) is not None:
            raise error

    # ------------------------------------------------------------------ the read model

    async def _project(self) -> None:
        """Tell the read model what changed, one revision at a time, in order."""
        state = self._state
        if not workflow.patched(READ_MODEL_PATCH) or state.projected_revision >= state.revision:
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
        if workflow.patched(READ_MODEL_PATCH):
            await workflow.wait_condition(lambda: self._state.projected_revision >= revision)

    @staticmethod
    def _delivery_options() -> dict[str, object]:
        return {
            "start_to_close_timeout": timedelta(seconds=30),
            "schedule_to_close_timeout": DELIVERY_WITHIN,
            "retry_policy": RetryPolicy(maximum_interval=timedelta(minutes=5)),
        }

    def _start_delivery(self) -> None:
        if self._outbox and (self._delivery is None or self._delivery.done()):
            self._delivery = asyncio.create_task(self._deliver_beside_the_loop())

    async def _finish_delivery(self) -> None:
        """Wait until the outbox is empty: everything in it delivered, or given up on."""
        while True:
            if self._delivery is not None and not self._delivery.done():
                await self._delivery
            if not self._outbox:
                return
            self._start_delivery()

    async def _deliver_beside_the_loop(self) -> None:
        while self._outbox:
            notification = self._outbox.pop(0)
            level, key = notification.level.value, notification.task_key
            try:
                await workflow.execute_activity_method(
                    NotificationActivities.send_notification, notification, **self._delivery_options()
                )
            except ActivityError:
                # Not delivered within the bound: the timeline says so, the ladder goes on.
                self._changed_by(SYSTEM_ACTOR, f"{level}_not_delivered", task_key=key)
                continue
            notification.sent_at = workflow.now()
            self._state.notifications.append(notification)
            self._changed_by(SYSTEM_ACTOR, f"{level}_sent", task_key=key)

    async def _deliver_notifications(self) -> None:
        """Cases from before ``DELIVERY_PATCH``: each reminder delivered in the loop."""
        while self._outbox:
            notification = self._outbox.pop(0)
            await workflow.execute_activity_method(
                NotificationActivities.send_notification,
                notification,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
            )
            notification.sent_at = workflow.now()
            self._state.notifications.append(notification)
            self._log(SYSTEM_ACTOR, f"{notification.level.value}_sent", task_key=notification.task_key)

    def _refresh(self) -> datetime | None:
        """Bring derived state up to date with the clock: tasks, due dates, the ladder,
        risk, phase, closing. Called from the run loop and from every handler."""
        state, now = self._state, workflow.now()
        if state.phase != Phase.CLOSED:
            for task in planning.materialize_tasks(state, now):
                self._log(SYSTEM_ACTOR, "task_created", task_key=task.key)
                if (template := state.policy.template(task.key)) is not None and template.outcome == "plan":
                    self._start_probation_advice(task)
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

    def _changed_by(self, actor: str, action: str, task_key: str | None = None, detail: str | None = None) -> None:
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
        self._finish(task, input.actor, input.outcome)
        if task.outcome_kind == "benefit_application":
            self._start_benefit_follow_up(task)
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
        self._changed_by(input.actor, "task_claimed", task_key=task.key)
        if task.outcome_kind == "id_document":
            self._start_id_follow_up(task)
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
        self._changed_by(input.actor, "task_assigned", task_key=task.key, detail=task.team)
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
        # The event first in the timeline, then what follows from it.
        self._log(actor, event.type)
        match event:
            case ScreeningRecorded():
                self._apply_screening(event.conditions)
                screening = state.task(state.policy.roles.screening)
                if screening is not None and screening.status == TaskStatus.OPEN:
                    self._finish(screening, actor, ScreeningOutcome(conditions=event.conditions))
            case PlanAgreed():
                plan = state.task(state.policy.roles.plan)
                if plan is not None and plan.status == TaskStatus.OPEN:
                    self._finish(plan, actor, PlanOutcome(agreed_on=event.agreed_on))
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
            case ReDetained():
                state.next_case_id = f"case-{event.new_detention_id}"
                self._close(ClosedReason.RE_DETAINED, actor)
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
            case MovedToMunicipality():
                if event.municipality == state.notice.municipality or state.moved_to is not None:
                    raise _reject(
                        ErrorType.EVENT_NOT_POSSIBLE, "the case is already with that municipality or being handed over"
                    )

    def _finish(self, task: Task, actor: str, outcome: Outcome | None) -> None:
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
        # Guarded by a patch: the history of a case that took this update says so, and a
        # later change to how erasure works can tell those cases apart.
        if state.offence_erased_at is None and workflow.patched(OFFENCE_ERASURE_PATCH):
            state.notice = state.notice.model_copy(update={"offence_category": None, "conviction_final": None})
            state.offence_erased_at = workflow.now()
            self._renew_run = True
            self._changed_by(input.actor, "offence_data_erased")
            await self._projected(state.revision)
        return OffenceErasure(case_id=state.case_id, run_id=workflow.info().run_id, continuing_as_new=self._renew_run)

    @erase_offence.validator
    def _validate_erase_offence(self, input: EraseOffenceInput) -> None:
        # A closed case does not continue as new: its runs are deleted whole.
        if self._state.phase == Phase.CLOSED:
            raise _reject(ErrorType.CASE_CLOSED, f"the case is closed ({self._state.closed_reason})")

    @workflow.signal
    def link_previous_case(self, input: PreviousCaseLinked) -> None:
        """A signal: the previous case closes and does not wait for an answer."""
        self._state.previous_case_id = input.previous_case_id
        self._changed_by(SYSTEM_ACTOR, "previous_case_linked", detail=input.previous_case_id)

    # ------------------------------------------------------------------ reads

    @workflow.query
    def state(self) -> CaseState:
        return self._state

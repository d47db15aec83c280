"""One way for a case to hold a conversation with a partner system beside its own loop.

A conversation is an ``asyncio`` task, not an await in the case's loop: while a partner
is retried for hours or read for weeks, the case's timers fire, its updates are answered
and its projections written. ``FollowUps`` runs the conversations of one run and stops
them all before the run ends (an activity does not outlive its run); the next run takes
each one up again from the case's state, for the time that is left.

A partner is one adapter, a subclass of ``FollowUp``: which call is its first request and
which its read, what the case does with an answer, when the conversation no longer helps
the case, and what the timeline says when it ends or fails. The course is the driver's,
and it is the same for every partner (``domain.follow_up``):

- the first request is retried until ``ask_until``; a partner that refuses it as wrong
  is not asked again;
- the partner is then read once a working day at the policy's hour, and woken early
  when the conversation stops helping, so that no timer outlives its purpose;
- a read that fails is made good by the next one, until reads have failed for longer
  than the policy's bound;
- never a failed or stuck case: a conversation that fails says so in the timeline, and
  where the policy has a task on that event, a person takes over.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from activities.partners.errors import NotFound, RequestRejected
    from activities.partners.options import ActivityOptions
    from domain import planning
    from domain.follow_up import FollowUpFailure, FollowUpProgress, next_working_day_at
    from domain.models import LOCAL_TIME, BasicCondition, Outcome, Task, TaskStatus
    from domain.policy import FollowUpFigures

# Who the case's timeline names for what the case itself did.
SYSTEM_ACTOR = "reentry"
# Why a conversation ended when the person withdrew consent for its condition: what the
# partner said about that condition is forgotten with it.
CONSENT_WITHDRAWN = "consent withdrawn"
# The partner refused the request as wrong: no retry mends it.
REQUEST_REJECTED_TYPES = frozenset({RequestRejected.type, NotFound.type})

P = TypeVar("P", bound=FollowUpProgress)
A = TypeVar("A")


class Followed(Protocol):
    """What a conversation reads of the workflow's state: a case, or a mayoral notice."""

    anchors: dict[str, datetime]

    @property
    def closed(self) -> bool: ...

    def task(self, key: str) -> Task | None: ...

    def consent_withdrawn(self, condition: BasicCondition) -> bool: ...


class Case(Protocol):
    """What a conversation may do to its case: record a change, complete a task."""

    def changed_by(self, actor: str, action: str, task_key: str | None = None, detail: str | None = None) -> None: ...

    def finish(self, task: Task, actor: str, outcome: Outcome | None) -> None: ...


@dataclass(frozen=True)
class Call(Generic[A]):
    """One call to a partner: the typed activity method, its input and its options."""

    activity: Callable[..., Awaitable[A]]
    arg: Any
    options: ActivityOptions


class FollowUp(ABC, Generic[P, A]):
    """One partner's side of a conversation: an adapter that the driver runs."""

    # Who the timeline names for what the partner said.
    actor: ClassVar[str]
    # What the timeline says when the conversation failed, and why, per failure. The same
    # name is the event anchor of the task a person gets, where the policy has one.
    failed_action: ClassVar[str]
    failure_reasons: ClassVar[Mapping[FollowUpFailure, str]]
    # Whether a failure anchors that task (``on_event`` in the policy).
    failure_opens_task: ClassVar[bool] = True
    # What the timeline says when the conversation stopped helping; None: it ends quietly.
    ended_action: ClassVar[str | None] = None
    # The basic condition whose consent the conversation needs; None: it needs none.
    condition: ClassVar[BasicCondition | None] = None
    # What the timeline calls the task that ends the conversation (``task_key``).
    task_label: ClassVar[str] = "task"

    def __init__(self, state: Any, case: Case, progress: P) -> None:
        self.state, self.case, self.progress = state, case, progress

    # ---------------------------------------------------------------- the partner's side

    def request(self) -> Call[A] | None:
        """The first request while it is still to be made; None once made, or for a
        partner that is only read."""
        return None

    def read(self) -> Call[A] | None:
        """The read that is repeated once a working day; None for a partner asked once."""
        return None

    def figures(self) -> FollowUpFigures | None:
        """The policy's hour to read and bound for reads that fail."""
        return None

    def task_key(self) -> str | None:
        """The task whose completion ends the conversation, if any; the timeline names it."""
        return None

    @abstractmethod
    def take(self, answer: A) -> None:
        """Record an answer; finish the progress once it says what the case waited for."""

    def forget(self) -> None:
        """Consent was withdrawn: remove what the partner said from the case."""

    # ---------------------------------------------------------------- shared rules

    def needless(self) -> str | None:
        """Why the conversation no longer helps the case, if it does not."""
        if self.state.closed:
            return "case closed"
        if self.condition is not None and self.state.consent_withdrawn(self.condition):
            return CONSENT_WITHDRAWN
        key = self.task_key()
        task = self.state.task(key) if key else None
        if task is not None and task.status != TaskStatus.OPEN:
            return f"{self.task_label} {task.status.value}"
        return None

    def ended(self, reason: str) -> None:
        if reason == CONSENT_WITHDRAWN:
            self.forget()
        if self.ended_action is not None:
            self.case.changed_by(SYSTEM_ACTOR, self.ended_action, task_key=self.task_key(), detail=reason)

    def failed(self, failure: FollowUpFailure) -> None:
        if self.failure_opens_task:
            self.state.anchors[planning.event_anchor_key(self.failed_action)] = workflow.now()
        self.case.changed_by(
            SYSTEM_ACTOR, self.failed_action, task_key=self.task_key(), detail=self.failure_reasons[failure]
        )


def _rejected(err: ActivityError) -> bool:
    """Whether the partner refused the request as wrong: asking again cannot help."""
    cause = err.cause
    return isinstance(cause, ApplicationError) and cause.type in REQUEST_REJECTED_TYPES


class _Conversation(Generic[P, A]):
    def __init__(self, follow_up: FollowUp[P, A]) -> None:
        self.follow_up = follow_up
        self.stopped = False
        self.task = asyncio.create_task(self._converse())

    async def _converse(self) -> None:
        follow_up, progress = self.follow_up, self.follow_up.progress
        while progress.running:
            answer: A | None = None
            failure: FollowUpFailure | None = None
            request = follow_up.request()
            if request is not None:
                answer, failure = await self._ask(request)
            else:
                await self._until_next_read()
                if follow_up.needless() is None:
                    answer, failure = await self._read()
            if self.stopped:
                # Cancelled while the answer was on its way: the next run asks again.
                return
            if (reason := follow_up.needless()) is not None:
                progress.finished_at = workflow.now()
                follow_up.ended(reason)
            elif failure is not None:
                progress.failure, progress.finished_at = failure, workflow.now()
                follow_up.failed(failure)
            elif answer is not None:
                follow_up.take(answer)
            if progress.running:
                figures = follow_up.figures()
                assert figures is not None, f"{type(follow_up).__name__} has no first request left and no reads"
                progress.next_read_at = next_working_day_at(workflow.now(), figures.read_at, LOCAL_TIME)

    async def _call(self, call: Call[A], **options: Any) -> A:
        return await workflow.execute_activity_method(
            call.activity,
            call.arg,
            **{**call.options.kwargs(), **options},
            # Stopped (closed, or continuing as new): the run goes on once the server has
            # the activity cancelled, so that nothing of it outlives the run.
            cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )

    async def _ask(self, call: Call[A]) -> tuple[A | None, FollowUpFailure | None]:
        progress = self.follow_up.progress
        left = (progress.ask_until or workflow.now()) - workflow.now()
        if left <= timedelta(0):
            return None, FollowUpFailure.REQUEST_UNAVAILABLE
        try:
            # Retried with backoff until the policy's bound; idempotent at the partner (by
            # a reference, or a lookup), so a request made again finds what it made.
            return await self._call(call, schedule_to_close_timeout=left), None
        except ActivityError as err:
            if _rejected(err):
                return None, FollowUpFailure.REQUEST_REJECTED
            return None, FollowUpFailure.REQUEST_UNAVAILABLE

    async def _until_next_read(self) -> None:
        wait = (self.follow_up.progress.next_read_at or workflow.now()) - workflow.now()
        if wait > timedelta(0):
            # Woken early when the conversation stops helping: no timer outlives its purpose.
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: self.follow_up.needless() is not None, timeout=wait)

    async def _read(self) -> tuple[A | None, FollowUpFailure | None]:
        follow_up, progress = self.follow_up, self.follow_up.progress
        call, figures = follow_up.read(), follow_up.figures()
        assert call is not None and figures is not None, f"{type(follow_up).__name__} is not read"
        asked = workflow.now()
        try:
            answer = await self._call(call)
        except ActivityError as err:
            if _rejected(err):
                return None, FollowUpFailure.READ_REJECTED
            # A read that fails is made good by the next one, until the bound has passed.
            progress.unavailable_since = progress.unavailable_since or asked
            if workflow.now() - progress.unavailable_since >= figures.unavailable_within:
                return None, FollowUpFailure.READ_UNAVAILABLE
            return None, None
        progress.unavailable_since = None
        return answer, None


class FollowUps:
    """The conversations running beside one run of a case."""

    def __init__(self) -> None:
        self._conversations: list[_Conversation[Any, Any]] = []

    def start(self, follow_up: FollowUp[Any, Any] | None) -> None:
        """Run a conversation that is still running in the case's state."""
        if follow_up is not None and follow_up.progress.running:
            self._conversations.append(_Conversation(follow_up))

    async def stop(self) -> None:
        """Cancel every conversation and wait until each has stopped; the next run takes
        them up again from the state. A conversation that went wrong in the code (not at
        the partner) fails the workflow task, to be fixed and replayed."""
        conversations, self._conversations = self._conversations, []
        for conversation in conversations:
            if not conversation.task.done():
                conversation.stopped = True
                conversation.task.cancel()
        for conversation in conversations:
            await workflow.wait_condition(conversation.task.done)
            if not conversation.task.cancelled() and (error := conversation.task.exception()) is not None:
                raise error

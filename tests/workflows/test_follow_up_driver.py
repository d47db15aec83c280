"""The follow-up driver on its own: one conversation with a fake partner whose answers each
test scripts, beside a small workflow that stands in for the case. Under the time-skipping
server, so that the working-day reads and the bounds are met in simulated time.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Literal

import pytest
from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.client import WorkflowHandle
from temporalio.common import RetryPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.partners.errors import NON_RETRYABLE_ERROR_TYPES, PartnerError, PartnerUnavailable, RequestRejected
from activities.partners.options import ActivityOptions
from domain import planning
from domain.follow_up import FollowUpFailure, FollowUpProgress
from domain.models import LOCAL_TIME, BasicCondition, CaseState, DetentionNotice, Outcome, ScreeningStatus, Task
from domain.policy import FollowUpFigures, Policy, load_policy
from tests.helpers import notice
from workflows.follow_ups.driver import CONSENT_WITHDRAWN, Call, FollowUp, FollowUps

READ_AT = time(8, 0)
# A call fails within minutes: what the driver does with a failed call is under test here,
# not the activity's own retries.
OPTIONS = ActivityOptions(
    start_to_close_timeout=timedelta(seconds=10),
    schedule_to_close_timeout=timedelta(minutes=2),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=30),
        backoff_coefficient=1.0,
        non_retryable_error_types=NON_RETRYABLE_ERROR_TYPES,
    ),
)


class Question(BaseModel):
    step: Literal["request", "read"]


class Answer(BaseModel):
    status: Literal["pending", "done"]


Script = list[Literal["pending", "done"] | type[PartnerError]]


@dataclass
class FakePartner:
    """Answers each call with the next item of its step's script; the last item repeats."""

    request: Script = field(default_factory=lambda: ["pending"])
    read: Script = field(default_factory=lambda: ["pending"])
    calls: list[tuple[str, datetime]] = field(default_factory=list)

    @activity.defn(name="fake_partner_call")
    async def call(self, question: Question) -> Answer:
        self.calls.append((question.step, activity.info().current_attempt_scheduled_time))
        script = getattr(self, question.step)
        item = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(item, type):
            raise item("fake partner", partner="fake").to_application_error()
        return Answer(status=item)

    def made(self, step: str) -> list[datetime]:
        return [at for s, at in self.calls if s == step]


class FakeProgress(FollowUpProgress):
    answered: list[str] = []


class FakeFollowUp(FollowUp[FakeProgress, Answer]):
    """A partner that is asked once (when the test says so) and then read until done; its
    conversation needs consent for debts."""

    actor = "fake_partner"
    failed_action = "fake_partner_failed"
    failure_reasons = {failure: f"reason: {failure.value}" for failure in FollowUpFailure}
    ended_action = "fake_partner_ended"
    condition = BasicCondition.DEBTS

    def __init__(self, state: CaseState, case: StandIn, progress: FakeProgress, figures: FollowUpFigures) -> None:
        super().__init__(state, case, progress)
        self._figures = figures

    def request(self) -> Call[Answer] | None:
        if self.progress.ask_until is None or self.progress.answered:
            return None
        return Call(FakePartner.call, Question(step="request"), OPTIONS)

    def read(self) -> Call[Answer] | None:
        return Call(FakePartner.call, Question(step="read"), OPTIONS)

    def figures(self) -> FollowUpFigures | None:
        return self._figures

    def take(self, answer: Answer) -> None:
        self.progress.answered = [*self.progress.answered, answer.status]
        if answer.status == "done":
            self.progress.finished_at = workflow.now()

    def forget(self) -> None:
        self.progress.answered = []


class Conversation(BaseModel):
    notice: DetentionNotice
    policy: Policy
    # None: the partner is only read.
    ask_within: timedelta | None = None
    unavailable_within: timedelta = timedelta(days=3)


class Outcome_(BaseModel):
    progress: FakeProgress
    timeline: list[tuple[str, str, str | None]]
    anchors: dict[str, datetime]


@workflow.defn(sandboxed=False)
class StandIn:
    """Stands in for the case: holds one conversation until it ends."""

    def __init__(self) -> None:
        self.timeline: list[tuple[str, str, str | None]] = []
        self.follow_ups = FollowUps()
        self.follow_up: FakeFollowUp | None = None

    def changed_by(self, actor: str, action: str, task_key: str | None = None, detail: str | None = None) -> None:
        self.timeline.append((actor, action, detail))

    def finish(self, task: Task, actor: str, outcome: Outcome | None) -> None:
        raise AssertionError("the fake partner completes no task")

    @workflow.run
    async def run(self, input: Conversation) -> Outcome_:
        now = workflow.now()
        state = CaseState(
            case_id=input.notice.case_id, notice=input.notice, policy=input.policy, notified_at=now, prison="PI-X"
        )
        progress = FakeProgress(started_at=now, ask_until=now + input.ask_within if input.ask_within else None)
        figures = FollowUpFigures(read_at=READ_AT, unavailable_within=input.unavailable_within)
        self.follow_up = FakeFollowUp(state, self, progress, figures)
        self.follow_ups.start(self.follow_up)
        await workflow.wait_condition(lambda: not progress.running)
        await self.follow_ups.stop()
        return Outcome_(progress=progress, timeline=self.timeline, anchors=state.anchors)

    @workflow.signal
    def withdraw_consent(self) -> None:
        assert self.follow_up is not None
        self.follow_up.state.screening[BasicCondition.DEBTS] = ScreeningStatus.NO_CONSENT

    @workflow.update
    async def continue_as_new_would(self) -> None:
        """Stop the conversation and take it up again from its progress, as the next run does."""
        assert self.follow_up is not None
        await self.follow_ups.stop()
        old = self.follow_up
        self.follow_up = FakeFollowUp(old.state, self, old.progress, old._figures)
        self.follow_ups.start(self.follow_up)

    @workflow.query
    def progress(self) -> FakeProgress:
        assert self.follow_up is not None
        return self.follow_up.progress


@dataclass
class Run:
    env: WorkflowEnvironment
    handle: WorkflowHandle

    async def outcome(self) -> Outcome_:
        return await self.handle.result()

    async def sleep(self, duration: timedelta) -> None:
        await self.env.sleep(duration)


@pytest.fixture
async def converse(env: WorkflowEnvironment) -> AsyncIterator:
    workers: list[Worker] = []

    async def start(partner: FakePartner, **conversation) -> Run:
        queue = f"follow-up-{uuid.uuid4()}"
        worker = Worker(env.client, task_queue=queue, workflows=[StandIn], activities=[partner.call])
        workers.append(worker)
        await worker.__aenter__()
        today = (await env.get_current_time()).astimezone(LOCAL_TIME).date()
        input = Conversation(notice=notice(today), policy=load_policy(), **conversation)
        handle = await env.client.start_workflow(StandIn.run, input, id=f"follow-up-{uuid.uuid4()}", task_queue=queue)
        return Run(env, handle)

    yield start
    for worker in workers:
        await worker.__aexit__(None, None, None)


def local(at: datetime) -> datetime:
    return at.astimezone(LOCAL_TIME)


async def test_asks_once_then_reads_each_working_day_in_office_hours_until_answered(converse):
    partner = FakePartner(request=["pending"], read=["pending", "pending", "pending", "pending", "done"])
    run = await converse(partner, ask_within=timedelta(days=1))
    outcome = await run.outcome()
    assert outcome.progress.answered == ["pending", "pending", "pending", "pending", "pending", "done"]
    assert outcome.progress.failure is None and not outcome.progress.running
    assert len(partner.made("request")) == 1
    reads = [local(at) for at in partner.made("read")]
    assert len(reads) == 5
    assert all(at.weekday() < 5 and at.time().replace(microsecond=0) == READ_AT for at in reads), reads
    days = [at.date() for at in reads]
    between = [(b - a).days for a, b in zip(days, days[1:], strict=False)]
    assert all(gap == 1 or (gap == 3 and day.weekday() == 4) for gap, day in zip(between, days, strict=False)), days
    assert outcome.timeline == [] and outcome.anchors == {}


async def test_a_partner_only_read_is_read_at_once(converse):
    partner = FakePartner(read=["done"])
    outcome = await (await converse(partner)).outcome()
    assert outcome.progress.answered == ["done"] and partner.made("request") == []


async def test_a_refused_request_is_not_asked_again_and_hands_over_to_a_person(converse):
    partner = FakePartner(request=[RequestRejected])
    outcome = await (await converse(partner, ask_within=timedelta(days=1))).outcome()
    assert outcome.progress.failure == FollowUpFailure.REQUEST_REJECTED
    assert len(partner.made("request")) == 1 and partner.made("read") == []
    assert outcome.timeline == [("reentry", "fake_partner_failed", "reason: request_rejected")]
    assert outcome.anchors == {planning.event_anchor_key("fake_partner_failed"): outcome.progress.finished_at}


async def test_a_request_unanswered_within_its_bound_fails_there(converse):
    partner = FakePartner(request=[PartnerUnavailable])
    outcome = await (await converse(partner, ask_within=timedelta(hours=1))).outcome()
    progress = outcome.progress
    assert progress.failure == FollowUpFailure.REQUEST_UNAVAILABLE
    assert len(partner.made("request")) > 10, "retried until the bound"
    assert progress.finished_at - progress.started_at == pytest.approx(timedelta(hours=1), abs=timedelta(minutes=1))
    assert outcome.timeline == [("reentry", "fake_partner_failed", "reason: request_unavailable")]


async def test_reads_that_fail_within_the_bound_are_made_good_by_the_next(converse):
    partner = FakePartner(read=["pending", PartnerUnavailable, PartnerUnavailable, "done"])
    outcome = await (await converse(partner, unavailable_within=timedelta(days=5))).outcome()
    assert outcome.progress.failure is None and outcome.progress.answered == ["pending", "done"]
    assert outcome.progress.unavailable_since is None and outcome.timeline == []


async def test_reads_that_fail_past_the_bound_hand_over_to_a_person(converse):
    partner = FakePartner(read=["pending", PartnerUnavailable])
    outcome = await (await converse(partner, unavailable_within=timedelta(days=2))).outcome()
    progress = outcome.progress
    assert progress.failure == FollowUpFailure.READ_UNAVAILABLE
    failed_reads = partner.made("read")[1:]
    assert progress.finished_at - failed_reads[0] >= timedelta(days=2), "not before the bound"
    assert progress.finished_at - failed_reads[0] < timedelta(days=5), "at the first read past it"
    assert outcome.timeline == [("reentry", "fake_partner_failed", "reason: read_unavailable")]


async def test_a_refused_read_hands_over_at_once(converse):
    partner = FakePartner(read=["pending", RequestRejected])
    outcome = await (await converse(partner, unavailable_within=timedelta(days=30))).outcome()
    assert outcome.progress.failure == FollowUpFailure.READ_REJECTED and len(partner.made("read")) == 2


async def test_a_conversation_that_stops_helping_is_woken_and_ends_without_another_read(converse):
    partner = FakePartner(read=["pending"])
    run = await converse(partner)
    await run.sleep(timedelta(days=1, hours=2))
    reads = len(partner.made("read"))
    assert reads >= 1
    await run.handle.signal(StandIn.withdraw_consent)
    outcome = await run.outcome()
    assert len(partner.made("read")) == reads, "no read once it no longer helps"
    assert outcome.progress.answered == [], "what the partner said is forgotten without consent"
    assert outcome.progress.failure is None
    assert outcome.timeline == [("reentry", "fake_partner_ended", CONSENT_WITHDRAWN)]
    assert outcome.progress.finished_at < outcome.progress.started_at + timedelta(days=3), "woken, not at the timer"


async def test_a_stopped_conversation_goes_on_where_it_was_in_the_next_run(converse):
    partner = FakePartner(request=["pending"], read=["pending", "pending", "done"])
    run = await converse(partner, ask_within=timedelta(days=1))
    await run.sleep(timedelta(hours=1))
    before = await run.handle.query(StandIn.progress, result_type=FakeProgress)
    assert before.answered == ["pending"] and before.next_read_at is not None
    await run.handle.execute_update(StandIn.continue_as_new_would)
    outcome = await run.outcome()
    assert len(partner.made("request")) == 1, "not asked again"
    assert outcome.progress.answered == ["pending", "pending", "pending", "done"]
    assert local(partner.made("read")[0]).replace(microsecond=0) == local(before.next_read_at), "the read it planned"

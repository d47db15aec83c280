"""Acting on the messages of the justice message box: a day-one notice starts its case, an
end-of-detention notice records the release; a notice to the mayor (BIJ) starts its
track, and what changes after it is recorded there. Every message counts once, by its id."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine
from temporalio import activity
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.partners.message_box import (
    DetentionEnded,
    DetentionStarted,
    FetchedMessages,
    JusticeMessage,
    MayoralNoticeChanged,
    MayoralNoticeReceived,
    PlanShared,
    RiskShared,
)
from core.commands import NoMayoralTrack, start_case, start_notice
from domain.errors import ErrorType
from domain.mayoral import MayoralEventInput, notice_workflow_id
from domain.models import (
    MESSAGE_BOX_ACTOR,
    RecordEventInput,
    Released,
    SharePlanInput,
    ShareRiskInput,
    case_id_for,
)
from domain.policy import Policy
from store import intake
from workflows.case import CaseWorkflow
from workflows.mayoral import MayoralNoticeWorkflow

# The case answered that the event no longer applies: it was already released, or closed.
_ALREADY = {ErrorType.EVENT_NOT_POSSIBLE, ErrorType.CASE_CLOSED}


class IntakeReport(BaseModel):
    handled: int = 0
    unmatched: int = 0
    unreadable: int = 0
    conflict: int = 0
    already_done: int = 0

    def add(self, other: IntakeReport) -> IntakeReport:
        return IntakeReport(**{k: getattr(self, k) + getattr(other, k) for k in IntakeReport.model_fields})


class Outcome(BaseModel):
    outcome: str
    case_id: str | None = None
    reason: str | None = None


async def _exists(handle: WorkflowHandle) -> bool:
    try:
        await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


def _conflict(err: WorkflowUpdateFailedError, workflow_id: str) -> Outcome:
    """A notice sent again that names another person: kept aside for an operator, the case
    or track unchanged. Anything else the notice's update refused is an error."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type == ErrorType.NOTICE_CONFLICT:
        return Outcome(
            outcome="conflict", case_id=workflow_id, reason="sent before about another person: nothing changed"
        )
    raise err


class IntakeActivities:
    def __init__(self, engine: Engine, client: Client, *, policy: Policy, task_queue: str, timeout: timedelta) -> None:
        self._engine, self._client = engine, client
        self._policy, self._task_queue, self._timeout = policy, task_queue, timeout

    @activity.defn
    async def read_intake_cursor(self) -> str | None:
        """How far the message box has been read."""
        return await asyncio.to_thread(intake.cursor, self._engine)

    @activity.defn
    async def take_in_messages(self, fetched: FetchedMessages) -> IntakeReport:
        """Act on a page of messages, keep aside what cannot be understood, then move the
        cursor past the page. A message is recorded as done only after it was acted on,
        and every action is idempotent: a retried page does nothing twice."""
        ids = [m.message_id for m in fetched.messages] + [m.message_id for m in fetched.unreadable]
        done = await asyncio.to_thread(intake.done, self._engine, ids)
        report = IntakeReport(already_done=len(done))
        for held in fetched.unreadable:
            if held.message_id in done:
                continue
            await self._record(held, Outcome(outcome="unreadable", reason=held.reason))
            report.unreadable += 1
        for message in fetched.messages:
            if message.message_id in done:
                continue
            activity.heartbeat(message.sequence)
            outcome = await self._act(message)
            await self._record(message, outcome)
            setattr(report, outcome.outcome, getattr(report, outcome.outcome) + 1)
        if fetched.next_cursor:
            await asyncio.to_thread(intake.save_cursor, self._engine, fetched.next_cursor)
        return report

    async def _record(self, message: JusticeMessage | BaseModel, outcome: Outcome) -> None:
        await asyncio.to_thread(
            intake.record,
            self._engine,
            message_id=message.message_id,
            sequence=message.sequence,
            type=message.type,
            sent_at=message.sent_at,
            outcome=outcome.outcome,
            reason=outcome.reason,
            case_id=outcome.case_id,
        )

    async def _act(self, message: JusticeMessage) -> Outcome:
        match message:
            case DetentionStarted(content=notice):
                try:
                    receipt = await start_case(
                        self._client, notice, policy=self._policy, task_queue=self._task_queue, timeout=self._timeout
                    )
                except WorkflowUpdateFailedError as err:
                    return _conflict(err, notice.case_id)
                return Outcome(outcome="handled", case_id=receipt.case_id)
            case DetentionEnded(content=ended):
                event = RecordEventInput(actor=MESSAGE_BOX_ACTOR, event=Released(released_on=ended.release_date))
                handle = self._client.get_workflow_handle_for(CaseWorkflow.run, case_id_for(ended.detention_id))
                return await self._update(handle, CaseWorkflow.record_event, event, "case of this detention")
            case MayoralNoticeReceived(content=notice):
                try:
                    await start_notice(
                        self._client, notice, policy=self._policy, task_queue=self._task_queue, timeout=self._timeout
                    )
                except WorkflowUpdateFailedError as err:
                    return _conflict(err, notice.workflow_id)
                except NoMayoralTrack:
                    # Kept aside for an operator, not dropped: the policy can be given one.
                    return Outcome(
                        outcome="unmatched", case_id=notice.workflow_id, reason="the policy has no mayoral section"
                    )
                return Outcome(outcome="handled", case_id=notice.workflow_id)
            case MayoralNoticeChanged(content=change):
                update = MayoralEventInput(actor=MESSAGE_BOX_ACTOR, event=change.event)
                handle = self._client.get_workflow_handle_for(
                    MayoralNoticeWorkflow.run, notice_workflow_id(change.notice_id)
                )
                return await self._update(handle, MayoralNoticeWorkflow.record_event, update, "notice to the mayor")
            case PlanShared(content=plan):
                handle = self._client.get_workflow_handle_for(CaseWorkflow.run, case_id_for(plan.detention_id))
                shared = SharePlanInput(actor=MESSAGE_BOX_ACTOR, plan=plan)
                return await self._update(handle, CaseWorkflow.share_plan, shared, "case of this detention")
            case RiskShared(content=risk):
                handle = self._client.get_workflow_handle_for(CaseWorkflow.run, case_id_for(risk.detention_id))
                shared = ShareRiskInput(actor=MESSAGE_BOX_ACTOR, risk=risk)
                return await self._update(handle, CaseWorkflow.share_risk, shared, "case of this detention")
        raise AssertionError(f"a message type without an action: {message.type}")

    async def _update(self, handle: WorkflowHandle, update: Any, arg: Any, what: str) -> Outcome:
        """Record an event in a case or a notice; one that no longer applies (already
        released, closed) is handled without a change, one without a workflow unmatched."""
        workflow_id = handle.id
        try:
            await handle.execute_update(update, arg, rpc_timeout=self._timeout)
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type in _ALREADY:
                return Outcome(outcome="handled", case_id=workflow_id, reason=f"no change: {cause.type}")
            raise
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            if await _exists(handle):
                # A closed workflow has completed and takes no updates.
                return Outcome(outcome="handled", case_id=workflow_id, reason=f"no change: {ErrorType.CASE_CLOSED}")
            return Outcome(outcome="unmatched", case_id=workflow_id, reason=f"reentry has no {what}")
        return Outcome(outcome="handled", case_id=workflow_id)

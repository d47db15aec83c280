"""Retention: erasing personal data whose term has ended, in Temporal and in the read model.

Every step is idempotent: a case erased twice, or already deleted in Temporal, is fine.
The steps are separate activities so that the retention workflow orders them: Temporal
first, the read model last, because the read model is where a pass finds what is still
due. Logs carry counts and pseudonymous case ids only.
"""

from __future__ import annotations

import contextlib

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import (
    Client,
    WorkflowContinuedAsNewError,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.errors import ErrorType
from domain.mayoral import EraseNoticeInput
from domain.retention import (
    RETENTION_ACTOR,
    CaseRef,
    CaseRuns,
    DueCases,
    EraseOffenceInput,
    FindDueCases,
    OffenceErasure,
    ScrubInput,
)
from store import retention as store
from workflows.case import CaseWorkflow
from workflows.mayoral import MayoralNoticeWorkflow


class RetentionActivities:
    """Finds the cases due for erasure and erases them, one step at a time."""

    def __init__(self, engine: Engine, client: Client) -> None:
        self._engine = engine
        self._client = client

    # ------------------------------------------------------------------ what is due

    @activity.defn
    def find_cases_to_erase(self, input: FindDueCases) -> DueCases:
        assert input.closed_before is not None
        with Session(self._engine) as session:
            ids, after = store.cases_to_erase(
                session, closed_before=input.closed_before, after=input.after, limit=input.limit
            )
        return DueCases(case_ids=ids, next_after=after)

    @activity.defn
    def find_offences_to_erase(self, input: FindDueCases) -> DueCases:
        assert input.released_on_or_before is not None
        with Session(self._engine) as session:
            ids, after = store.offences_to_erase(
                session, released_on_or_before=input.released_on_or_before, after=input.after, limit=input.limit
            )
        return DueCases(case_ids=ids, next_after=after)

    @activity.defn
    def find_notices_to_erase(self, input: FindDueCases) -> DueCases:
        """Mayoral notices whose term after the return, or after the leave, has ended."""
        assert input.released_on_or_before is not None
        with Session(self._engine) as session:
            ids, after = store.notices_to_erase(
                session, erase_from_on_or_before=input.released_on_or_before, after=input.after, limit=input.limit
            )
        return DueCases(case_ids=ids, next_after=after)

    # ------------------------------------------------------------------ Temporal

    @activity.defn
    async def erase_notice_in_temporal(self, input: CaseRef) -> CaseRuns:
        """Have a running notice erase its data and close; answer all its runs, to delete."""
        handle = self._client.get_workflow_handle_for(MayoralNoticeWorkflow.run, input.case_id)
        described = await _describe(handle)
        if described is None:
            return CaseRuns(case_id=input.case_id)
        if described.status == WorkflowExecutionStatus.RUNNING:
            with contextlib.suppress(RPCError):  # closed meanwhile: its runs go all the same
                await handle.execute_update(MayoralNoticeWorkflow.erase, EraseNoticeInput(actor=RETENTION_ACTOR))
        await self._closed(input.case_id, described.run_id)
        described = await _describe(handle)
        run_id = described.run_id if described else ""
        return CaseRuns(case_id=input.case_id, run_ids=await self._runs(input.case_id, run_id))

    @activity.defn
    async def erase_offence_in_case(self, input: CaseRef) -> CaseRuns:
        """Have a running case erase its offence data and hand over to a new run; answer
        the runs that still hold it: the runs before the one that runs on, or every run of
        a case that has closed (a closed run cannot be changed, only deleted)."""
        handle = self._client.get_workflow_handle_for(CaseWorkflow.run, input.case_id)
        described = await _describe(handle)
        if described is None:
            return CaseRuns(case_id=input.case_id)
        run_id = described.run_id
        if described.status == WorkflowExecutionStatus.RUNNING:
            erasure = await self._erase_in_running_case(handle)
            if erasure is not None and not erasure.continuing_as_new:
                # Erased before: this run started without the data, the ones before hold it.
                return CaseRuns(case_id=input.case_id, run_ids=(await self._runs(input.case_id, erasure.run_id))[1:])
            if erasure is not None:
                run_id = erasure.run_id
        # The run that held the data hands over to a new run without it, or (a closing
        # case) completes: either way, it and the runs before it go once it has closed.
        await self._closed(input.case_id, run_id)
        return CaseRuns(case_id=input.case_id, run_ids=await self._runs(input.case_id, run_id))

    async def _erase_in_running_case(self, handle: WorkflowHandle) -> OffenceErasure | None:
        """The case's answer, or None when it turned out to be closed."""
        try:
            return await handle.execute_update(CaseWorkflow.erase_offence, EraseOffenceInput())
        except WorkflowUpdateFailedError as err:
            if isinstance(err.cause, ApplicationError) and err.cause.type == ErrorType.CASE_CLOSED:
                return None
            raise
        except RPCError as err:
            # Closed between the description and the update.
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            return None

    @activity.defn
    async def case_runs(self, input: CaseRef) -> CaseRuns:
        """Every run of a case, newest first; none when Temporal no longer has it."""
        described = await _describe(self._client.get_workflow_handle(input.case_id))
        if described is None:
            return CaseRuns(case_id=input.case_id)
        return CaseRuns(case_id=input.case_id, run_ids=await self._runs(input.case_id, described.run_id))

    @activity.defn
    async def delete_case_runs(self, input: CaseRuns) -> int:
        """Delete runs of a case, oldest first: until the newest is gone, a retry finds the
        rest by following it back. A run already gone is fine. Answers how many went."""
        deleted = 0
        for run_id in reversed(input.run_ids):
            request = DeleteWorkflowExecutionRequest(
                namespace=self._client.namespace,
                workflow_execution=WorkflowExecution(workflow_id=input.case_id, run_id=run_id),
            )
            try:
                await self._client.workflow_service.delete_workflow_execution(request)
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:
                    raise
                continue
            deleted += 1
        return deleted

    async def _runs(self, case_id: str, newest: str) -> list[str]:
        """A run and the runs it continued from, newest first."""
        runs: list[str] = []
        run_id = newest
        while run_id and run_id not in runs:
            started = await _first_event(self._client.get_workflow_handle(case_id, run_id=run_id))
            if started is None:
                break
            runs.append(run_id)
            run_id = started.workflow_execution_started_event_attributes.continued_execution_run_id
        return runs

    async def _closed(self, case_id: str, run_id: str) -> None:
        """Wait until a run has closed: completed, or continued as new."""
        handle = self._client.get_workflow_handle(case_id, run_id=run_id)
        with contextlib.suppress(WorkflowContinuedAsNewError, WorkflowFailureError):
            await handle.result(follow_runs=False)

    # ------------------------------------------------------------------ the read model

    @activity.defn
    def scrub_offence(self, input: ScrubInput) -> bool:
        return store.erase_offence(self._engine, case_id=input.case_id, erased_at=input.erased_at)

    @activity.defn
    def scrub_notice(self, input: ScrubInput) -> bool:
        return store.erase_notice(self._engine, workflow_id=input.case_id, erased_at=input.erased_at)

    @activity.defn
    def scrub_case(self, input: ScrubInput) -> bool:
        return store.erase_case(self._engine, case_id=input.case_id, erased_at=input.erased_at)


async def _describe(handle: WorkflowHandle) -> WorkflowExecutionDescription | None:
    try:
        return await handle.describe()
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        return None


async def _first_event(handle: WorkflowHandle) -> HistoryEvent | None:
    try:
        async for event in handle.fetch_history_events(page_size=1):
            return event
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
    return None

"""The retention pass: erases the personal data whose term has ended. Started by a
Temporal Schedule (daily by default), or at once with ``reentry retention run``.

Orchestration only: the read model says what is due, page by page; each case is erased
in Temporal first and in the read model last, so that a case whose erasure failed is
still due in the next pass.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.retention import RetentionActivities
    from domain.retention import (
        CaseRef,
        CaseRuns,
        FindDueCases,
        RetentionInput,
        RetentionProgress,
        RetentionReport,
        RetentionStage,
        ScrubInput,
        Term,
        cutoffs,
    )

# Reading what is due: keep trying for a while, then fail the pass (the next one retries).
FIND = {
    "start_to_close_timeout": timedelta(minutes=1),
    "retry_policy": RetryPolicy(maximum_interval=timedelta(minutes=1), maximum_attempts=10),
}
# Erasing one case: a few attempts, then it counts as failed and stays due.
STEP = {
    "start_to_close_timeout": timedelta(minutes=1),
    "retry_policy": RetryPolicy(maximum_interval=timedelta(seconds=30), maximum_attempts=3),
}
# A running case answers once its read model shows the erasure, then hands over to a new run.
HAND_OVER = {**STEP, "start_to_close_timeout": timedelta(minutes=5)}


@dataclass
class _Erased:
    erased: bool = False
    runs_deleted: int = 0
    failed: bool = False


@workflow.defn
class RetentionWorkflow:
    @workflow.run
    async def run(self, input: RetentionInput) -> RetentionReport:
        progress = input.progress or self._begin(input)
        report, stage = progress.report, progress.stage
        while True:
            closed_cases, notices = stage.kind == "closed_cases", stage.kind == "mayoral_notices"
            find = {
                "closed_cases": RetentionActivities.find_cases_to_erase,
                "offences": RetentionActivities.find_offences_to_erase,
                "mayoral_notices": RetentionActivities.find_notices_to_erase,
            }[stage.kind]
            due = await workflow.execute_activity_method(
                find,
                FindDueCases(
                    closed_before=report.closed_before,
                    released_on_or_before=report.released_on_or_before,
                    after=stage.after,
                    limit=input.batch_size,
                ),
                **FIND,
            )
            erase = self._erase_case if closed_cases else self._erase_notice if notices else self._erase_offence
            results = await asyncio.gather(*(erase(case_id, report.as_of) for case_id in due.case_ids))
            for case_id, result in zip(due.case_ids, results, strict=True):
                if result.failed:
                    report.failed.append(case_id)
                elif result.erased and closed_cases:
                    report.cases_erased += 1
                elif result.erased and notices:
                    report.notices_erased += 1
                elif result.erased:
                    report.offences_erased += 1
                report.runs_deleted += result.runs_deleted
            if due.next_after is not None:
                stage = RetentionStage(kind=stage.kind, after=due.next_after)
            elif closed_cases:
                stage = RetentionStage(kind="offences")
            elif not notices:
                stage = RetentionStage(kind="mayoral_notices")
            else:
                break
            if workflow.info().is_continue_as_new_suggested():
                progress = RetentionProgress(stage=stage, report=report)
                workflow.continue_as_new(input.model_copy(update={"progress": progress}))
        workflow.logger.info(
            "retention pass: %d closed cases erased, offence data of %d cases erased, %d mayoral notices erased,"
            " %d runs deleted, %d failed",
            report.cases_erased,
            report.offences_erased,
            report.notices_erased,
            report.runs_deleted,
            len(report.failed),
        )
        return report

    def _begin(self, input: RetentionInput) -> RetentionProgress:
        now = workflow.now()
        due = cutoffs(now, closed_term=Term.parse(input.closed_term), mayoral_term=Term.parse(input.mayoral_term))
        report = RetentionReport(
            as_of=now,
            closed_term=input.closed_term,
            mayoral_term=input.mayoral_term,
            closed_before=due.closed_before,
            released_on_or_before=due.released_on_or_before,
        )
        return RetentionProgress(stage=RetentionStage(), report=report)

    async def _erase_case(self, case_id: str, at: datetime) -> _Erased:
        """A closed case past its term: every run deleted, the read model's row made anonymous."""
        try:
            runs = await workflow.execute_activity_method(
                RetentionActivities.case_runs, CaseRef(case_id=case_id), **STEP
            )
            deleted = await self._delete(runs)
            erased = await workflow.execute_activity_method(
                RetentionActivities.scrub_case, ScrubInput(case_id=case_id, erased_at=at), **STEP
            )
        except ActivityError:
            return _Erased(failed=True)
        return _Erased(erased=erased, runs_deleted=deleted)

    async def _erase_offence(self, case_id: str, at: datetime) -> _Erased:
        """A qualifying case past its release term: the offence data out of the case, out
        of the runs that held it, out of the read model."""
        try:
            runs = await workflow.execute_activity_method(
                RetentionActivities.erase_offence_in_case, CaseRef(case_id=case_id), **HAND_OVER
            )
            deleted = await self._delete(runs)
            erased = await workflow.execute_activity_method(
                RetentionActivities.scrub_offence, ScrubInput(case_id=case_id, erased_at=at), **STEP
            )
        except ActivityError:
            return _Erased(failed=True)
        return _Erased(erased=erased, runs_deleted=deleted)

    async def _erase_notice(self, workflow_id: str, at: datetime) -> _Erased:
        """A mayoral notice past its term: its data out of the notice, which closes, every
        run deleted, the read model's row made anonymous (the overview still counts it)."""
        try:
            runs = await workflow.execute_activity_method(
                RetentionActivities.erase_notice_in_temporal, CaseRef(case_id=workflow_id), **HAND_OVER
            )
            deleted = await self._delete(runs)
            erased = await workflow.execute_activity_method(
                RetentionActivities.scrub_notice, ScrubInput(case_id=workflow_id, erased_at=at), **STEP
            )
        except ActivityError:
            return _Erased(failed=True)
        return _Erased(erased=erased, runs_deleted=deleted)

    async def _delete(self, runs: CaseRuns) -> int:
        if not runs.run_ids:
            return 0
        return await workflow.execute_activity_method(RetentionActivities.delete_case_runs, runs, **STEP)

"""Retention under time skipping: personal data goes when its term ends, and not before.

Each test has its own read model (SQLite and PostgreSQL) and worker. The time-skipping
test server does not implement DeleteWorkflowExecution: here the pass's deletions are
recorded; tests/worker/test_retention.py deletes for real on a dev server.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from activities.retention import RetentionActivities
from core.commands import start_notice
from domain.mayoral import CompleteNoticeTaskInput, NoticeClosedReason, NoticeState
from domain.models import ClosedReason, OffenceCategory, Phase, StartCaseInput, TaskStatus, as_datetime, local_date
from domain.policy import load_policy
from domain.retention import RETENTION_ACTOR, CaseRuns, RetentionInput, RetentionReport, Term
from store import notices, queries
from store.tables import CaseRow, EventRow, MayoralNoticeRow
from tests.helpers import STAND_INS, bij_notice, notice
from tests.workflows.driver import CaseDriver, keep_history, run_histories
from worker.temporal import build_worker
from workflows.mayoral import MayoralNoticeWorkflow
from workflows.retention import RetentionWorkflow

AFTERCARE = ("aftercare_contact", "checkin_4w", "checkin_13w", "checkin_26w")


class DeletionsRecorded(RetentionActivities):
    """Records the runs a pass deletes, instead of deleting them."""

    def __init__(self, engine: Engine, client) -> None:
        super().__init__(engine, client)
        self.deleted: dict[str, list[str]] = {}

    @activity.defn
    async def delete_case_runs(self, input: CaseRuns) -> int:
        deleted = self.deleted.setdefault(input.case_id, [])
        new = [run_id for run_id in input.run_ids if run_id not in deleted]
        deleted += new
        return len(new)


@pytest.fixture
def deletions(env: WorkflowEnvironment, engine: Engine) -> DeletionsRecorded:
    return DeletionsRecorded(engine, env.client)


@pytest.fixture
async def task_queue(env: WorkflowEnvironment, engine: Engine, deletions: DeletionsRecorded) -> AsyncIterator[str]:
    """The cases and the retention pass of this test, on its own read model."""
    queue = f"retention-{uuid.uuid4()}"
    async with build_worker(env.client, queue, engine, STAND_INS, retention=deletions):
        yield queue


async def run_pass(env: WorkflowEnvironment, task_queue: str, keep: str | None = None, **terms) -> RetentionReport:
    # In real time: a pass takes seconds and no case's timer falls in them. Awaiting its
    # result through the test environment would skip time while it waits for activities.
    with env.auto_time_skipping_disabled():
        handle = await env.client.start_workflow(
            RetentionWorkflow.run, RetentionInput(**terms), id=f"retention-{uuid.uuid4()}", task_queue=task_queue
        )
        report = await handle.result()
    if keep:
        await keep_history(env.client, handle.id, keep)
    return report


async def run_ids(env: WorkflowEnvironment, workflow_id: str) -> list[str]:
    """Every run of a workflow, the first first."""
    return [
        h.events[0].workflow_execution_started_event_attributes.original_execution_run_id
        for h in await run_histories(env.client, workflow_id)
    ]


def dashboard(engine: Engine, today: date) -> queries.Dashboard:
    with Session(engine) as session:
        return queries.dashboard(session, released_from=today - timedelta(days=800), today=today)


def case_row(engine: Engine, case_id: str) -> CaseRow | None:
    with Session(engine) as session:
        return session.get(CaseRow, case_id)


def timeline(engine: Engine, case_id: str) -> list[EventRow]:
    with Session(engine) as session:
        return queries.timeline(session, case_id=case_id)


async def started_with(env: WorkflowEnvironment, case_id: str, run_id: str) -> StartCaseInput:
    """What a run of a case was started with, as its history holds it."""
    handle = env.client.get_workflow_handle(case_id, run_id=run_id)
    async for event in handle.fetch_history_events(page_size=1):
        payloads = event.workflow_execution_started_event_attributes.input.payloads
        [started] = await env.client.data_converter.decode(payloads, [StartCaseInput])
        return started
    raise AssertionError("no history")


async def test_a_closed_case_is_erased_when_its_term_ends_and_not_before(env, cases, engine, deletions, task_queue):
    today = local_date(await env.get_current_time())
    closing = await cases(notice(today, release_in=timedelta(days=9)))
    staying = await cases(notice(today, release_in=timedelta(weeks=30)))
    await closing.complete("short_stay_triage", {"kind": "note", "note": "huur doorbetaald, uitkering opgeschort"})
    await closing.sleep_until(today + timedelta(days=9))
    await closing.event({"type": "released", "released_on": str(today + timedelta(days=9))})
    await closing.complete("aftercare_contact", {"kind": "contact", "contacted_on": str(await closing.today())})
    await closing.event({"type": "declined", "note": "wil geen hulp meer"}, actor="anna")
    assert (await closing.handle.result()).closed_reason == ClosedReason.DECLINED
    closed_on, case_id = await closing.today(), closing.notice.case_id
    run_ids_before = await run_ids(env, case_id)

    term = Term.parse("P3M")
    await closing.sleep_until(term.after(closed_on) - timedelta(days=1))
    report = await run_pass(env, task_queue, closed_term=str(term))
    assert (report.cases_erased, report.runs_deleted, report.failed) == (0, 0, [])
    assert case_row(engine, case_id).erased_at is None and timeline(engine, case_id)
    assert deletions.deleted == {}

    await closing.sleep_until(term.after(closed_on))
    day = await closing.today()
    before = dashboard(engine, day)
    report = await run_pass(env, task_queue, closed_term=str(term))
    runs = len(run_ids_before)
    assert (report.cases_erased, report.offences_erased, report.runs_deleted, report.failed) == (1, 0, runs, [])
    assert deletions.deleted.keys() == {case_id} and sorted(deletions.deleted[case_id]) == sorted(run_ids_before), (
        "every run of the closed case"
    )
    assert dashboard(engine, day) == before
    assert case_row(engine, case_id) is None and timeline(engine, case_id) == []
    with Session(engine) as session:
        [erased] = session.execute(select(CaseRow).where(CaseRow.erased_at.is_not(None))).scalars()
    assert (erased.phase, erased.actual_release, erased.prison, erased.closed_reason) == (
        "closed",
        today + timedelta(days=9),
        None,
        None,
    )
    assert case_row(engine, staying.notice.case_id).erased_at is None, "an open case is not erased"
    assert (await staying.state()).phase != Phase.CLOSED

    again = await run_pass(env, task_queue, closed_term=str(term))
    assert (again.cases_erased, again.runs_deleted, again.failed) == (0, 0, [])
    assert dashboard(engine, day) == before


async def test_offence_data_goes_six_months_after_release_while_the_case_runs_on(
    env, cases, engine, deletions, task_queue
):
    """The data a mayoral notice is built from: gone from the case, from the runs that held
    it and from the read model six months after release; a case that does not qualify
    keeps it."""
    today = local_date(await env.get_current_time())
    serious = await cases(notice(today, release_in=timedelta(weeks=20), offence="violent"))
    not_final = await cases(notice(today, release_in=timedelta(weeks=20), offence="violent", conviction_final=False))
    closed = await cases(notice(today, release_in=timedelta(weeks=20), offence="sexual"))
    released = today + timedelta(weeks=20)
    await serious.sleep_until(released)
    for case in (serious, not_final, closed):
        await case.event({"type": "released", "released_on": str(released)})
    await closed.event({"type": "declined"}, actor="anna")
    await closed.handle.result()
    first_run = (await serious.handle.describe()).run_id
    closed_runs = await run_ids(env, closed.notice.case_id)
    assert (await started_with(env, serious.notice.case_id, first_run)).notice.offence_category == "violent"

    due_on = Term(months=6).after(released)
    await serious.sleep_until(due_on - timedelta(days=1))
    report = await run_pass(env, task_queue)
    assert (report.offences_erased, report.runs_deleted, report.failed) == (0, 0, [])
    assert (await serious.state()).notice.offence_category == OffenceCategory.VIOLENT

    await serious.sleep_until(due_on)
    day = await serious.today()
    before = dashboard(engine, day)
    report = await run_pass(env, task_queue, keep="retention_pass")
    assert (report.offences_erased, report.cases_erased, report.failed) == (2, 0, [])
    assert report.released_on_or_before == released

    # The running case forgot it and handed over to a run that never held it.
    state = await serious.state()
    assert (state.notice.offence_category, state.notice.conviction_final) == (None, None)
    assert state.offence_erased_at is not None
    assert (RETENTION_ACTOR, "offence_data_erased") in [(h.actor, h.action) for h in state.history]
    described = await serious.handle.describe()
    assert described.status == WorkflowExecutionStatus.RUNNING and described.run_id != first_run
    carried = await started_with(env, serious.notice.case_id, described.run_id)
    assert carried.notice.offence_category is None and carried.state.notice.offence_category is None
    assert carried.notice.person == serious.notice.person, "the rest of the notice stays while the case runs"
    await CaseDriver(
        env, env.client.get_workflow_handle(serious.notice.case_id, run_id=first_run), serious.notice, task_queue
    ).keep_history("offence_erased")
    # The runs that held it are deleted: the runs before of the running case, every run of the closed one.
    serious_runs = [r for r in await run_ids(env, serious.notice.case_id) if r != described.run_id]
    assert {k: sorted(v) for k, v in deletions.deleted.items()} == {
        serious.notice.case_id: sorted(serious_runs),
        closed.notice.case_id: sorted(closed_runs),
    }
    assert report.runs_deleted == len(serious_runs) + len(closed_runs)

    serious_row, closed_row = case_row(engine, serious.notice.case_id), case_row(engine, closed.notice.case_id)
    for row in (serious_row, closed_row):
        assert (row.offence_category, row.conviction_final, row.erased_at) == (None, None, None)
        assert row.offence_erased_at is not None
    assert timeline(engine, closed.notice.case_id), "the closed case's term has not ended: the rest stays"
    assert dashboard(engine, day) == before

    # A case without a final conviction keeps its offence data.
    kept = await not_final.state()
    assert (kept.notice.offence_category, kept.notice.conviction_final, kept.offence_erased_at) == (
        OffenceCategory.VIOLENT,
        False,
        None,
    )
    assert case_row(engine, not_final.notice.case_id).offence_category == "violent"
    assert not_final.notice.case_id not in deletions.deleted

    # Erasing again is harmless: nothing is due, no run changes.
    again = await run_pass(env, task_queue)
    assert (again.offences_erased, again.runs_deleted, again.failed) == (0, 0, [])
    assert (await serious.handle.describe()).run_id == described.run_id

    # The case runs on: its work, its read model and its closing as before.
    await serious.complete("aftercare_contact", {"kind": "contact", "contacted_on": str(day)})
    with Session(engine) as session:
        done, _ = queries.tasks_page(session, status=TaskStatus.COMPLETED, limit=200)
    assert (serious.notice.case_id, "aftercare_contact") in {(t.case_id, t.key) for t in done}
    assert (await serious.task("checkin_26w")).status == TaskStatus.OPEN
    for key in AFTERCARE[1:]:
        await serious.complete(key)
    summary = await serious.handle.result()
    assert summary.closed_reason == ClosedReason.AFTERCARE_COMPLETED
    assert case_row(engine, serious.notice.case_id).phase == "closed"


async def test_a_mayoral_notice_is_erased_six_months_after_the_return_and_still_counts(
    env, engine, deletions, task_queue
):
    """The day before: all there. On the day: gone from the notice, its runs and the read
    model's row, which keeps what the overview counts. A notice filtered by the
    municipality's choice goes on the same day."""
    today = local_date(await env.get_current_time())
    bij = bij_notice(today, starts_in=timedelta(weeks=5))
    policy = load_policy()
    await start_notice(env.client, bij, policy=policy, task_queue=task_queue)
    handle = env.client.get_workflow_handle_for(MayoralNoticeWorkflow.run, bij.workflow_id)
    run_id = (await handle.describe()).run_id
    assert policy.mayoral is not None
    helmond_filters = policy.mayoral.model_copy(update={"only_unrest_expected": ["0794"]})
    filtered = bij_notice(today, starts_in=timedelta(weeks=5), municipality="0794")
    await start_notice(
        env.client, filtered, policy=policy.model_copy(update={"mayoral": helmond_filters}), task_queue=task_queue
    )
    filtered_run = (await env.client.get_workflow_handle(filtered.workflow_id).describe()).run_id
    await handle.execute_update(
        MayoralNoticeWorkflow.complete_task,
        CompleteNoticeTaskInput.model_validate(
            {
                "task_key": "register_notice",
                "actor": "oov-ilse",
                "outcome": {"kind": "notice_registered", "concerns_municipality": True},
            }
        ),
    )
    due_on = Term(months=6).after(bij.starts_on)
    await env.sleep(as_datetime(due_on - timedelta(days=1)) + timedelta(hours=10) - await env.get_current_time())
    report = await run_pass(env, task_queue)
    assert (report.notices_erased, report.failed) == (0, [])
    state: NoticeState = await handle.query(MayoralNoticeWorkflow.state)
    assert state.notice == bij
    with Session(engine) as session:
        counted = notices.overview(session)
        assert session.get(MayoralNoticeRow, filtered.workflow_id).status == "filtered"
    assert (counted.months[0].returns, counted.months[0].filtered) == (2, 1)

    await env.sleep(timedelta(days=1))
    report = await run_pass(env, task_queue)
    assert (report.notices_erased, report.failed) == (2, [])
    state = await handle.query(MayoralNoticeWorkflow.state)
    assert state.notice is None and state.erased_at is not None
    assert state.closed_reason == NoticeClosedReason.ERASED, "its steps were never finished: erased all the same"
    assert all(task.outcome is None for task in state.tasks)
    assert deletions.deleted == {bij.workflow_id: [run_id], filtered.workflow_id: [filtered_run]}
    with Session(engine) as session:
        assert session.get(MayoralNoticeRow, bij.workflow_id) is None
        rows = sorted(session.exec(select(MayoralNoticeRow)).all(), key=lambda r: r.municipality)
        after = notices.overview(session)
    # What was received, filtered, assessed and decided counts as before; the notice that
    # was still open has closed.
    assert (after.months, after.measures, after.open_notices) == (counted.months, counted.measures, 0)
    for row in rows:
        assert (row.notice_id, row.detention_id, row.offence_category, row.measure) == (None, None, None, None)
        assert row.workflow_id.startswith("erased-") and row.erased_at is not None
    assert [(r.kind, r.municipality, r.status, r.starts_on) for r in rows] == [
        ("return", "0794", "filtered", bij.starts_on.replace(day=1)),
        ("return", "0855", "closed", bij.starts_on.replace(day=1)),
    ]

    report = await run_pass(env, task_queue)
    assert (report.notices_erased, report.runs_deleted) == (0, 0), "erasing twice changes nothing"

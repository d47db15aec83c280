"""The case workflow keeps the SQL read model up to date, revision by revision."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from domain.models import local_date
from store import queries
from store.tables import CaseRow, NotificationRow, TaskRow
from tests.helpers import notice


def task_row(engine, case_id: str, key: str) -> TaskRow:
    with Session(engine) as session:
        return session.execute(select(TaskRow).where(TaskRow.case_id == case_id, TaskRow.key == key)).scalar_one()


async def test_an_update_answers_after_the_read_model_shows_it(env, cases, workflow_engine):
    today = local_date(await env.get_current_time())
    case = await cases(notice(today, municipality="0772"))
    assert task_row(workflow_engine, case.notice.case_id, "contact_prison").status == "open"
    # What the case does by itself after the notice (the register's check, the look for an
    # earlier case) done first, so that only the update below changes it.
    await case.eventually(
        lambda s: s.registration is not None and s.previous_case_checked and s.projected_revision == s.revision
    )

    await case.complete("contact_prison", {"kind": "contact", "contacted_on": str(today)}, actor="anna")
    # No waiting: the update answered only once the projection of its revision was written.
    row = task_row(workflow_engine, case.notice.case_id, "contact_prison")
    assert row.status == "completed" and row.completed_by == "anna"
    with Session(workflow_engine) as session:
        case_row = queries.case_row(session, case_id=case.notice.case_id)
        assert case_row.phase == "planning" and case_row.municipality == "0772"
        assert case_row.revision == (await case.state()).revision
        actions = [(e.actor, e.action) for e in queries.timeline(session, case_id=case.notice.case_id)]
    assert actions[0] == ("reentry", "case_started")
    assert ("anna", "task_completed") in actions


async def test_escalations_reach_the_read_model(env, cases, workflow_engine):
    case = await cases(notice(local_date(await env.get_current_time())))
    state = await case.state()
    await case.sleep_until(state.notified_at + timedelta(days=7, hours=2))
    await case.eventually(lambda s: s.projected_revision == s.revision and len(s.notifications) >= 2)
    with Session(workflow_engine) as session:
        levels = session.execute(
            select(NotificationRow.level).where(NotificationRow.case_id == case.notice.case_id)
        ).scalars()
        assert set(levels) >= {"reminder", "supervisor"}
        overdue, _ = queries.tasks_page(session, overdue=True, team="reintegration", municipalities=["0855"])
        assert case.notice.case_id in {t.case_id for t in overdue}
        row = session.get(CaseRow, case.notice.case_id)
        assert row.overdue_count == 1

"""The projection writer and the migrations, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import Session, SQLModel, select

from domain.models import HistoryEntry, Notification
from domain.projection import CaseProjection, TaskSnapshot
from store import queries
from store.db import alembic_config, upgrade
from store.projection import write_projection
from store.tables import CaseRow, EventRow, NotificationRow, ScreeningRow, TaskRow

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def projection(
    revision: int, *, phase: str = "notified", tasks: int = 2, history: int = 1, **changes
) -> CaseProjection:
    return CaseProjection(
        case_id="case-DJI-S-1",
        revision=revision,
        municipality="0855",
        phase=phase,
        prison="PI-TILBURG",
        detention_start=date(2027, 1, 1),
        expected_release=date(2027, 6, 1),
        offence_category="property",
        policy_version="nl-default-2026.1",
        notified_at=NOW,
        tasks=[
            TaskSnapshot(key=f"task_{i}", title=f"Taak {i}", team="nazorg", status="open", due=NOW + timedelta(days=i))
            for i in range(tasks)
        ],
        history=[HistoryEntry(at=NOW, actor="anna", action=f"action_{i}") for i in range(history)],
        **changes,
    )


def rows(engine, table):
    with Session(engine) as session:
        return list(session.execute(select(table)).scalars())


def test_the_schema_matches_the_tables(engine):
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []


def test_a_write_is_idempotent_and_never_goes_back(engine):
    assert write_projection(engine, projection(1))
    assert not write_projection(engine, projection(1)), "a retried write changes nothing"
    assert write_projection(engine, projection(3, phase="planning", tasks=3, history=1, history_from=1))
    assert not write_projection(engine, projection(2, phase="notified", tasks=1)), "a late older write loses"
    [case] = rows(engine, CaseRow)
    assert (case.revision, case.phase, case.open_tasks) == (3, "planning", 3)
    assert len(rows(engine, TaskRow)) == 3
    assert [(e.seq, e.action) for e in rows(engine, EventRow)] == [(0, "action_0"), (1, "action_0")]


def test_a_rebuild_rewrites_the_same_revision_but_not_an_older(engine):
    write_projection(engine, projection(5, tasks=1))
    assert write_projection(engine, projection(5, tasks=4), same_revision_too=True)
    assert not write_projection(engine, projection(4, tasks=2), same_revision_too=True)
    assert len(rows(engine, TaskRow)) == 4


def test_notifications_are_kept_once(engine):
    sent = Notification(
        notification_id="case-DJI-S-1/task_0/reminder/x",
        case_id="case-DJI-S-1",
        municipality="0855",
        task_key="task_0",
        level="reminder",
        recipient_role="team",
        team="nazorg",
        sent_at=NOW,
    )
    write_projection(engine, projection(1, notifications=[sent]))
    write_projection(engine, projection(2, notifications=[sent]))
    assert [n.level for n in rows(engine, NotificationRow)] == ["reminder"]


def test_tasks_without_a_date_come_last_and_pages_do_not_overlap(engine):
    tasks = [TaskSnapshot(key="no_date", title="t", team="nazorg", status="open")] + [
        TaskSnapshot(key=f"t{i:02}", title="t", team="nazorg", status="open", due=NOW + timedelta(days=i % 3))
        for i in range(9)
    ]
    write_projection(engine, projection(1).model_copy(update={"tasks": tasks}))
    seen, cursor = [], None
    with Session(engine) as session:
        while True:
            page, cursor = queries.tasks_page(session, team="nazorg", cursor=cursor, limit=4)
            seen += [t.key for t in page]
            if cursor is None:
                break
    assert len(seen) == len(set(seen)) == 10
    assert seen[-1] == "no_date"
    assert seen[:3] == ["t00", "t03", "t06"], "same due date: a stable order by case and key"


def test_migration_0002_fills_the_screening_rows_already_there(engine, database_url):
    command.downgrade(alembic_config(database_url), "0001")
    try:
        with engine.begin() as connection:
            for case_id, closed in (("case-DJI-M-1", None), ("case-DJI-M-2", "declined")):
                connection.execute(
                    text(
                        "INSERT INTO cases (case_id, revision, municipality, phase, prison, detention_start,"
                        " release_unexpected, short_stay, offence_category, policy_version, notified_at,"
                        " open_tasks, overdue_count, at_risk_count, closed_reason, projected_at)"
                        " VALUES (:id, 1, '0796', 'planning', 'PI-VUGHT', '2027-01-01', false, false, 'other',"
                        " 'v', :now, 0, 0, 0, :closed, :now)"
                    ),
                    {"id": case_id, "now": NOW, "closed": closed},
                )
                connection.execute(
                    text("INSERT INTO screenings (case_id, condition, status) VALUES (:id, 'income', 'unknown')"),
                    {"id": case_id},
                )
    finally:
        upgrade(database_url)
    screened = {(r.case_id, r.municipality, r.case_open) for r in rows(engine, ScreeningRow)}
    assert screened == {("case-DJI-M-1", "0796", True), ("case-DJI-M-2", "0796", False)}


def test_times_come_back_as_the_same_instant(engine):
    from domain.models import as_datetime

    midnight_in_amsterdam = as_datetime(date(2027, 3, 1))  # 2027-02-28 23:00 UTC
    due = [TaskSnapshot(key="id_document", title="t", team="nazorg", status="open", due=midnight_in_amsterdam)]
    write_projection(engine, projection(1).model_copy(update={"tasks": due}))
    with Session(engine) as session:
        [task], _ = queries.tasks_page(session, team="nazorg")
        stored = task.due if task.due.tzinfo else task.due.replace(tzinfo=UTC)
        assert stored == midnight_in_amsterdam
        before, _ = queries.tasks_page(session, team="nazorg", due_before=datetime(2027, 2, 28, 23, 30, tzinfo=UTC))
        after, _ = queries.tasks_page(session, team="nazorg", due_after=datetime(2027, 3, 1, 0, 30, tzinfo=UTC))
        assert [t.key for t in before] == ["id_document"] and after == []

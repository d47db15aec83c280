"""Retention in the read model, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from alembic import command
from sqlalchemy import text
from sqlmodel import Session, select

from domain.mayoral import NoticeProjection
from domain.models import BasicCondition, ClosedReason, HistoryEntry, Notification, Phase, ScreeningStatus
from domain.projection import CaseProjection, TaskSnapshot
from domain.retention import Term
from store import queries
from store import retention as store
from store.db import alembic_config, upgrade
from store.notices import notice_exists
from store.projection import write_notice_projection, write_projection
from store.tables import CaseRow, EventRow, NotificationRow, ScreeningRow, TaskRow

NOW = datetime(2029, 6, 4, 9, 0, tzinfo=UTC)
RELEASED = date(2027, 3, 1)


def case(number: int, *, closed_at: datetime | None = None, **changes) -> CaseProjection:
    """A released case with everything the read model keeps about one."""
    case_id = f"case-DJI-R-{number:03d}"
    values = {
        "case_id": case_id,
        "revision": 9,
        "municipality": "0855" if number % 2 else "0772",
        "phase": Phase.CLOSED if closed_at else Phase.RELEASED,
        "prison": "PI-TILBURG",
        "detention_start": date(2026, 9, 1),
        "expected_release": RELEASED,
        "actual_release": RELEASED,
        "offence_category": "property",
        "conviction_final": True,
        "policy_version": "nl-default-2026.1",
        "notified_at": datetime(2026, 9, 1, 8, tzinfo=UTC),
        "closed_reason": ClosedReason.DECLINED if closed_at else None,
        "closed_at": closed_at,
        "screening": {c: ScreeningStatus.NEEDS_ACTION for c in BasicCondition},
        "tasks": [
            TaskSnapshot(
                key="housing",
                title="Huisvesting",
                team="nazorg",
                assignee="anna",
                status="cancelled" if closed_at else "open",
                overdue=not closed_at,
                at_risk_reason="wacht op corporatie",
            ),
            TaskSnapshot(key="id_document", title="ID", team="nazorg", status="completed", completed_by="bram"),
        ],
        "released_with_id": True,
        "released_with_income": number % 3 == 0,
        "released_with_housing": True,
        "benefit_applied_on": date(2027, 1, 4),
        "benefit_decided_on": date(2027, 1, 4) + timedelta(days=30 + number),
        "previous_case_id": "case-DJI-R-000",
        "history": [HistoryEntry(at=NOW, actor="anna", action="task_completed", detail="woning via corporatie")],
        "notifications": [
            Notification(
                notification_id=f"{case_id}/housing/reminder",
                case_id=case_id,
                municipality="0855",
                task_key="housing",
                level="reminder",
                recipient_role="team",
                team="nazorg",
                assignee="anna",
                sent_at=NOW,
            )
        ],
    }
    return CaseProjection(**{**values, **changes})


def dashboard(engine) -> queries.Dashboard:
    with Session(engine) as session:
        return queries.dashboard(session, released_from=date(2027, 1, 1), today=NOW.date())


def ids(engine, finder, **kwargs) -> list[str]:
    with Session(engine) as session:
        found, after = finder(session, **kwargs)
    assert after is None
    return found


def test_closed_cases_are_due_once_closed_before_the_cutoff(engine):
    cutoff = datetime(2029, 6, 1, tzinfo=UTC)
    for n, closed in ((1, cutoff - timedelta(seconds=1)), (2, cutoff), (3, None), (4, cutoff - timedelta(days=400))):
        write_projection(engine, case(n, closed_at=closed))
    assert ids(engine, store.cases_to_erase, closed_before=cutoff) == ["case-DJI-R-001", "case-DJI-R-004"]


def test_due_cases_come_in_keyset_pages(engine):
    for n in range(7):
        write_projection(engine, case(n, closed_at=NOW - timedelta(days=800)))
    seen, after = [], None
    with Session(engine) as session:
        while True:
            page, after = store.cases_to_erase(session, closed_before=NOW, after=after, limit=3)
            seen += page
            if after is None:
                break
    assert seen == [f"case-DJI-R-{n:03d}" for n in range(7)]


def test_offences_due_are_those_of_a_mayoral_notice_released_long_enough_ago(engine):
    cases = {
        1: {"offence_category": "violent"},
        2: {"offence_category": "sexual"},
        3: {"offence_category": "violent", "conviction_final": False},
        4: {"offence_category": "property"},
        5: {"offence_category": "violent", "actual_release": RELEASED + timedelta(days=1)},
        6: {"offence_category": "violent", "actual_release": None},
        # Written before the read model kept whether the conviction is final: taken as final.
        7: {"offence_category": "sexual", "conviction_final": None},
        # The case has dropped its offence data, but its earlier runs may still hold it.
        8: {"offence_category": None, "conviction_final": None},
    }
    for n, changes in cases.items():
        write_projection(engine, case(n, **changes))
    due = ids(engine, store.offences_to_erase, released_on_or_before=RELEASED)
    assert due == ["case-DJI-R-001", "case-DJI-R-002", "case-DJI-R-007", "case-DJI-R-008"]

    assert store.erase_offence(engine, case_id="case-DJI-R-001", erased_at=NOW)
    assert not store.erase_offence(engine, case_id="case-DJI-R-001", erased_at=NOW), "erasing twice is harmless"
    assert not store.erase_offence(engine, case_id="case-DJI-R-999", erased_at=NOW)
    with Session(engine) as session:
        row = session.get(CaseRow, "case-DJI-R-001")
        assert (row.offence_category, row.conviction_final) == (None, None)
        assert row.offence_erased_at.replace(tzinfo=UTC) == NOW
        assert row.erased_at is None and row.prison == "PI-TILBURG", "the rest stays while the case runs"
    assert "case-DJI-R-001" not in ids(engine, store.offences_to_erase, released_on_or_before=RELEASED)
    # A later projection of the running case keeps the mark.
    write_projection(engine, case(1, revision=10, offence_category=None, conviction_final=None))
    assert "case-DJI-R-001" not in ids(engine, store.offences_to_erase, released_on_or_before=RELEASED)


def test_an_erased_case_keeps_only_what_the_dashboard_counts(engine):
    closed = NOW - timedelta(days=800)
    for n in range(1, 5):
        write_projection(engine, case(n, closed_at=closed if n <= 2 else None))
    before = dashboard(engine)

    assert store.erase_case(engine, case_id="case-DJI-R-001", erased_at=NOW)
    assert not store.erase_case(engine, case_id="case-DJI-R-001", erased_at=NOW), "erasing twice is harmless"
    assert not store.erase_case(engine, case_id="case-DJI-R-003", erased_at=NOW), "an open case is not erased"
    assert store.erase_case(engine, case_id="case-DJI-R-002", erased_at=NOW)

    assert dashboard(engine) == before
    with Session(engine) as session:
        assert session.get(CaseRow, "case-DJI-R-001") is None, "nothing leads back to the detention"
        erased = list(session.execute(select(CaseRow).where(CaseRow.erased_at.is_not(None))).scalars())
        for table in (TaskRow, ScreeningRow, EventRow, NotificationRow):
            left = set(session.execute(select(table.case_id)).scalars())
            assert left == {"case-DJI-R-003", "case-DJI-R-004"}, table.__tablename__
        assert queries.case_row(session, case_id=erased[0].case_id) is None
        listed, _ = queries.cases_page(session, limit=200)
        assert [c.case_id for c in listed] == ["case-DJI-R-003", "case-DJI-R-004"]
    assert sorted(row.municipality for row in erased) == ["0772", "0855"]
    for row in erased:
        assert row.case_id.startswith(store.ERASED_ID_PREFIX)
        kept = (row.phase, row.actual_release, row.released_with_id, row.benefit_applied_on)
        assert kept == ("closed", RELEASED, True, date(2027, 1, 4))
        assert (row.erased_at.replace(tzinfo=UTC), row.offence_erased_at.replace(tzinfo=UTC)) == (NOW, NOW)
        emptied = {k: getattr(row, k) for k in store.EMPTIED}
        assert emptied == store.EMPTIED
    assert ids(engine, store.cases_to_erase, closed_before=NOW) == []


def test_erased_rows_do_not_tell_which_case_had_a_mayoral_notice(engine):
    closed = NOW - timedelta(days=800)
    write_projection(engine, case(1, closed_at=closed, offence_category="violent"))
    write_projection(engine, case(2, closed_at=closed))
    store.erase_offence(engine, case_id="case-DJI-R-001", erased_at=closed + timedelta(days=30))
    store.erase_case(engine, case_id="case-DJI-R-001", erased_at=NOW)
    store.erase_case(engine, case_id="case-DJI-R-002", erased_at=NOW)
    with Session(engine) as session:
        rows = list(session.execute(select(CaseRow.offence_category, CaseRow.offence_erased_at)).all())
    assert {(category, moment.replace(tzinfo=UTC)) for category, moment in rows} == {(None, NOW)}


def test_migration_0004_round_trip_keeps_the_cases_it_can(engine, database_url):
    write_projection(engine, case(1, closed_at=NOW - timedelta(days=800)))
    write_projection(engine, case(2, offence_category="violent"))
    write_projection(engine, case(3))
    store.erase_case(engine, case_id="case-DJI-R-001", erased_at=NOW)
    store.erase_offence(engine, case_id="case-DJI-R-002", erased_at=NOW)
    command.downgrade(alembic_config(database_url), "0003")
    try:
        with engine.connect() as connection:
            kept = connection.execute(text("SELECT case_id, offence_category FROM cases ORDER BY case_id")).all()
        assert [tuple(r) for r in kept] == [("case-DJI-R-002", "erased"), ("case-DJI-R-003", "property")]
    finally:
        upgrade(database_url)
    with Session(engine) as session:
        row = session.get(CaseRow, "case-DJI-R-003")
        assert (row.conviction_final, row.erased_at, row.offence_erased_at) == (None, None, None)


def test_erasing_offence_data_empties_the_row_and_its_notice_flag(engine):
    write_projection(engine, case(4, offence_category="violent", mayoral_notice=True))
    assert store.erase_offence(engine, case_id="case-DJI-R-004", erased_at=NOW)
    with Session(engine) as session:
        row = session.get(CaseRow, "case-DJI-R-004")
    assert (row.offence_category, row.conviction_final, row.mayoral_notice) == (None, None, False)
    assert row.offence_erased_at is not None
    assert not store.erase_offence(engine, case_id="case-DJI-R-004", erased_at=NOW), "once"


def _notice(number: int, kind: str, starts_on: date, ends_on: date | None) -> NoticeProjection:
    return NoticeProjection(
        workflow_id=f"bij-BIJ-R-{number:03d}",
        notice_id=f"BIJ-R-{number:03d}",
        detention_id=f"DJI-R-{number:03d}",
        revision=1,
        municipality="0855",
        kind=kind,
        status="open",
        received_at=NOW - timedelta(days=300),
        starts_on=starts_on,
        ends_on=ends_on,
        offence_category="sexual",
        measure="tbs" if kind == "leave" else "none",
        unrest_expected=False,
        compressed=False,
        open_tasks=1,
        overdue_count=0,
        policy_version="nl-default-2026.7",
    )


def test_a_leave_notice_is_due_from_its_last_day_a_return_from_the_return(engine):
    term = Term.parse("P6M")
    day = term.latest_start(NOW.date())
    write_notice_projection(engine, _notice(1, "return", day, None))
    write_notice_projection(engine, _notice(2, "leave", day - timedelta(days=3), day))
    write_notice_projection(engine, _notice(3, "leave", day - timedelta(days=3), day + timedelta(days=1)))
    write_notice_projection(engine, _notice(4, "return", day + timedelta(days=1), None))
    due = ids(engine, store.notices_to_erase, erase_from_on_or_before=day)
    assert due == ["bij-BIJ-R-001", "bij-BIJ-R-002"], "a leave that ended a day later waits a day"
    assert store.erase_notice(engine, workflow_id="bij-BIJ-R-002", erased_at=NOW)
    assert ids(engine, store.notices_to_erase, erase_from_on_or_before=day) == ["bij-BIJ-R-001"]
    with Session(engine) as session:
        assert notice_exists(session, detention_id="DJI-R-001") and not notice_exists(session, detention_id="DJI-R-002")

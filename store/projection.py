"""Writes a case's projection: idempotent, and an older revision never overwrites a newer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from domain.mayoral import NoticeProjection
from domain.projection import CaseProjection
from store.tables import FAR_FUTURE, CaseRow, EventRow, MayoralNoticeRow, NotificationRow, ScreeningRow, TaskRow


def upsert(session: Session, table: type) -> Any:
    """An INSERT that can say what to do on conflict, on PostgreSQL and SQLite."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def in_utc(row: dict[str, Any]) -> dict[str, Any]:
    """Every timestamp in UTC: SQLite keeps a datetime's wall time and drops its offset."""
    return {k: v.astimezone(UTC) if isinstance(v, datetime) and v.tzinfo else v for k, v in row.items()}


def _case_values(p: CaseProjection) -> dict[str, Any]:
    values = p.model_dump(
        exclude={"screening", "tasks", "history_from", "history", "notifications", "person_bsn"}, mode="python"
    )
    values["phase"] = p.phase.value
    values["closed_reason"] = p.closed_reason.value if p.closed_reason else None
    values["open_tasks"] = sum(1 for t in p.tasks if t.status == "open")
    values["projected_at"] = datetime.now(UTC)
    return in_utc(values)


def write_projection(
    engine: Engine, p: CaseProjection, *, same_revision_too: bool = False, person_key: str | None = None
) -> bool:
    """Write one case; False when the read model already has this revision or a newer one.

    ``same_revision_too`` rewrites a case at the revision it has (a rebuild after a new
    column), still never going back to an older one. ``person_key``: the person's
    pseudonym (``core.pseudonyms``), when the writer has the keys to make it.
    """
    values = _case_values(p)
    if person_key is not None:
        values["person_key"] = person_key
    with Session(engine) as session, session.begin():
        inserted = session.execute(
            upsert(session, CaseRow)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["case_id"])
            .returning(CaseRow.case_id)
        ).first()
        if inserted is None:
            newer = CaseRow.revision <= p.revision if same_revision_too else CaseRow.revision < p.revision
            # The conditional update also takes the row lock on PostgreSQL: writes of one
            # case are serialised, whatever order their activities arrive in.
            updated = session.execute(
                update(CaseRow).where(CaseRow.case_id == p.case_id, newer).values(**values)
            ).rowcount
            if not updated:
                return False
        session.execute(delete(TaskRow).where(TaskRow.case_id == p.case_id))
        session.execute(delete(ScreeningRow).where(ScreeningRow.case_id == p.case_id))
        if p.tasks:
            session.execute(
                upsert(session, TaskRow),
                [
                    in_utc(
                        {
                            **t.model_dump(mode="python"),
                            "case_id": p.case_id,
                            "municipality": p.municipality,
                            "condition": t.condition.value if t.condition else None,
                            "status": t.status.value,
                            "escalation_level": t.escalation_level.value,
                            "due_sort": t.due or FAR_FUTURE.replace(tzinfo=UTC),
                            "priority": t.priority,
                        }
                    )
                    for t in p.tasks
                ],
            )
        if p.screening:
            session.execute(
                upsert(session, ScreeningRow),
                [
                    {
                        "case_id": p.case_id,
                        "condition": c.value,
                        "status": s.value,
                        "municipality": p.municipality,
                        "case_open": p.closed_reason is None,
                    }
                    for c, s in p.screening.items()
                ],
            )
        if p.history:
            session.execute(
                upsert(session, EventRow).on_conflict_do_nothing(index_elements=["case_id", "seq"]),
                [
                    in_utc({"case_id": p.case_id, "seq": p.history_from + i, **e.model_dump(mode="python")})
                    for i, e in enumerate(p.history)
                ],
            )
        if p.notifications:
            session.execute(
                upsert(session, NotificationRow).on_conflict_do_nothing(index_elements=["notification_id"]),
                [
                    in_utc(
                        {
                            **n.model_dump(mode="python", exclude={"case_id", "due"}),
                            "case_id": p.case_id,
                            "level": n.level.value,
                            "sent_at": n.sent_at or values["projected_at"],
                        }
                    )
                    for n in p.notifications
                ],
            )
    return True


def write_notice_projection(engine: Engine, p: NoticeProjection) -> bool:
    """Write one mayoral notice; False when the read model has this revision or a newer one."""
    # ``erased_at`` is retention's to set, when it has made the row anonymous.
    values = p.model_dump(mode="python")
    values["measure_types"] = ",".join(p.measure_types)
    values["erase_from"] = p.ends_on if p.kind == "leave" and p.ends_on else p.starts_on
    values["projected_at"] = datetime.now(UTC)
    values = in_utc(values)
    with Session(engine) as session, session.begin():
        inserted = session.execute(
            upsert(session, MayoralNoticeRow)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["workflow_id"])
            .returning(MayoralNoticeRow.workflow_id)
        ).first()
        if inserted is not None:
            return True
        changed = session.execute(
            update(MayoralNoticeRow)
            .where(MayoralNoticeRow.workflow_id == p.workflow_id, MayoralNoticeRow.revision < p.revision)  # type: ignore[arg-type]
            .values(**values)
        )
        return bool(changed.rowcount)  # type: ignore[attr-defined]

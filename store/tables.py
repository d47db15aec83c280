"""Read-model tables. No BSN or names anywhere: rows carry pseudonymous ids and codes.

Timestamps are UTC ``DateTime(timezone=True)``. ``due_sort`` is ``due`` with "no date
yet" as the far future, so that keyset pagination needs no NULL handling.

Retention erases a closed case's row down to what the dashboard counts (``erased_at``
set, a random id, the columns that may be empty emptied) and a released case's offence
data (``offence_erased_at``); see ``store/retention.py``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, LargeBinary, text
from sqlmodel import Field, SQLModel

FAR_FUTURE = datetime(9999, 12, 31)
NOT_ERASED = "erased_at IS NULL"


def utc(nullable: bool = True, index: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable, index=index)


class CaseRow(SQLModel, table=True):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_municipality_phase", "municipality", "phase", "case_id"),
        Index("ix_cases_municipality_release", "municipality", "expected_release"),
        Index("ix_cases_released", "actual_release"),
        Index("ix_cases_phase", "phase"),
        Index(
            "ix_cases_retention_closed",
            "closed_at",
            postgresql_where=text(NOT_ERASED),
            sqlite_where=text(NOT_ERASED),
        ),
    )

    case_id: str = Field(primary_key=True, max_length=80)
    revision: int
    municipality: str = Field(max_length=4)
    # The person's pseudonym across detentions (core.pseudonyms): a keyed hash, never the BSN.
    person_key: str | None = Field(default=None, max_length=64, index=True)
    phase: str = Field(max_length=32)
    prison: str | None = Field(default=None, max_length=64)  # None only once erased
    detention_start: date | None = None  # None only once erased
    expected_release: date | None = None
    actual_release: date | None = None
    release_unexpected: bool = False
    short_stay: bool = False
    offence_category: str | None = Field(default=None, max_length=32)  # None once erased
    conviction_final: bool | None = None  # None once erased, or written before it was kept
    mayoral_notice: bool = Field(default=False, description="the mayor is told of this case (BIJ)")
    policy_version: str = Field(max_length=64)
    notified_at: datetime | None = Field(default=None, sa_column=utc())  # None only once erased
    open_tasks: int = 0
    overdue_count: int = 0
    at_risk_count: int = 0
    closed_reason: str | None = Field(default=None, max_length=32)
    closed_at: datetime | None = Field(default=None, sa_column=utc())
    released_with_id: bool | None = None
    released_with_income: bool | None = None
    released_with_housing: bool | None = None
    benefit_applied_on: date | None = None
    benefit_decided_on: date | None = None
    previous_case_id: str | None = Field(default=None, max_length=80)
    next_case_id: str | None = Field(default=None, max_length=80)
    # Risk information a coordinator has not yet seen: the case asks for attention.
    risk_unseen: bool = False
    projected_at: datetime = Field(sa_column=utc(nullable=False))
    offence_erased_at: datetime | None = Field(default=None, sa_column=utc())
    erased_at: datetime | None = Field(default=None, sa_column=utc())


# The dashboard counts attention per team and screening per condition over every open
# case: partial indexes that hold just those rows let it do so without the tables.
ATTENTION = "status = 'open' AND (overdue IS true OR at_risk IS true)"


class ScreeningRow(SQLModel, table=True):
    """One basic condition of a case. Carries the case's municipality and whether it is
    open, so that the dashboard counts them without a join."""

    __tablename__ = "screenings"
    __table_args__ = (
        Index("ix_screenings_condition_status", "condition", "status"),
        Index(
            "ix_screenings_dashboard",
            "municipality",
            "condition",
            "status",
            postgresql_where=text("case_open"),
            sqlite_where=text("case_open"),
        ),
        Index(
            "ix_screenings_national",
            "condition",
            "status",
            postgresql_where=text("case_open"),
            sqlite_where=text("case_open"),
        ),
    )

    case_id: str = Field(primary_key=True, foreign_key="cases.case_id", max_length=80)
    condition: str = Field(primary_key=True, max_length=32)
    status: str = Field(max_length=32)
    municipality: str = Field(max_length=4)
    case_open: bool


class TaskRow(SQLModel, table=True):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_assignee_inbox", "assignee", "status", "due_sort", "case_id", "key"),
        Index("ix_tasks_team_inbox", "team", "status", "overdue", "due_sort", "case_id", "key"),
        Index("ix_tasks_municipality_inbox", "municipality", "status", "due_sort", "case_id", "key"),
        Index("ix_tasks_priority", "status", "priority", "due_sort"),
        Index(
            "ix_tasks_attention",
            "municipality",
            "team",
            postgresql_include=["overdue", "at_risk"],
            postgresql_where=text(ATTENTION),
            sqlite_where=text(ATTENTION),
        ),
    )

    case_id: str = Field(primary_key=True, foreign_key="cases.case_id", max_length=80)
    key: str = Field(primary_key=True, max_length=64)
    municipality: str = Field(max_length=4)
    title: str = Field(max_length=200)
    condition: str | None = Field(default=None, max_length=32)
    team: str = Field(max_length=64)
    assignee: str | None = Field(default=None, max_length=100)
    status: str = Field(max_length=32)
    due: datetime | None = Field(default=None, sa_column=utc())
    due_sort: datetime = Field(sa_column=utc(nullable=False))
    due_reason: str | None = Field(default=None, max_length=300)
    overdue: bool = False
    at_risk: bool = False
    at_risk_reason: str | None = Field(default=None, max_length=300)
    triage: bool = False
    escalation_level: str = Field(max_length=32)
    priority: int = Field(description="higher is more urgent: at risk, overdue, escalated")
    completed_by: str | None = Field(default=None, max_length=100)
    completed_at: datetime | None = Field(default=None, sa_column=utc())


class EventRow(SQLModel, table=True):
    """The case timeline: what happened, in order, and who did it."""

    __tablename__ = "case_events"

    case_id: str = Field(primary_key=True, foreign_key="cases.case_id", max_length=80)
    seq: int = Field(primary_key=True)
    at: datetime = Field(sa_column=utc(nullable=False))
    actor: str = Field(max_length=100)
    action: str = Field(max_length=64)
    task_key: str | None = Field(default=None, max_length=64)
    detail: str | None = Field(default=None, max_length=300)


class NotificationRow(SQLModel, table=True):
    """Reminders and escalations sent."""

    __tablename__ = "notifications_sent"
    __table_args__ = (Index("ix_notifications_case", "case_id", "sent_at"),)

    notification_id: str = Field(primary_key=True, max_length=250)
    case_id: str = Field(foreign_key="cases.case_id", max_length=80)
    municipality: str = Field(max_length=4)
    task_key: str = Field(max_length=64)
    level: str = Field(max_length=32)
    recipient_role: str = Field(max_length=32)
    team: str = Field(max_length=64)
    assignee: str | None = Field(default=None, max_length=100)
    sent_at: datetime = Field(sa_column=utc(nullable=False))


AUDIT_ID = BigInteger().with_variant(Integer(), "sqlite")


class AuditRow(SQLModel, table=True):
    """Who read or changed which case data, when, and whether they were let. Append-only:
    no API path updates or deletes a row."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_user", "user_id", "id"),
        Index("ix_audit_case", "case_id", "id"),
        Index("ix_audit_at", "at"),
    )

    # SQLite numbers rows itself only for an INTEGER primary key.
    id: int | None = Field(default=None, sa_column=Column(AUDIT_ID, primary_key=True, autoincrement=True))
    at: datetime = Field(sa_column=utc(nullable=False))
    request_id: str = Field(max_length=64)
    user_id: str | None = Field(default=None, max_length=100)
    roles: str | None = Field(default=None, max_length=200)
    action: str = Field(max_length=40)
    case_id: str | None = Field(default=None, max_length=80)
    target: str | None = Field(default=None, max_length=500, description="fields read, task, event or filters")
    outcome: str = Field(max_length=16, description="allowed or refused")
    status: int


class IntakeMessageRow(SQLModel, table=True):
    """A message of the justice message box, once acted on or kept aside: its id makes
    every message count once. No content: what it said lives in the case it started."""

    __tablename__ = "intake_messages"
    __table_args__ = (Index("ix_intake_outcome", "outcome", "sequence"),)

    message_id: str = Field(primary_key=True, max_length=100)
    sequence: int
    type: str = Field(max_length=40)
    sent_at: datetime = Field(sa_column=utc(nullable=False))
    received_at: datetime = Field(sa_column=utc(nullable=False))
    outcome: str = Field(
        max_length=16, description="handled, unmatched (no case for it), conflict (another person) or unreadable"
    )
    reason: str | None = Field(default=None, max_length=300)
    case_id: str | None = Field(default=None, max_length=80)


class IntakeCursorRow(SQLModel, table=True):
    """How far the message box has been read."""

    __tablename__ = "intake_cursor"

    source: str = Field(primary_key=True, max_length=40)
    cursor: str | None = Field(default=None, max_length=500)
    updated_at: datetime = Field(sa_column=utc(nullable=False))


class MayoralNoticeRow(SQLModel, table=True):
    """A BIJ notice of the mayor's track: codes and dates, never a name or BSN. Read by
    the mayor's office only. Erased at the end of its term down to what the overview
    counts: a random id, the month of the date, the kind, the decision and the measures'
    types (``store/retention.py``)."""

    __tablename__ = "mayoral_notices"
    __table_args__ = (
        Index("ix_mayoral_municipality_date", "municipality", "starts_on", "workflow_id"),
        Index("ix_mayoral_status", "status"),
        Index("ix_mayoral_detention", "detention_id"),
        Index("ix_mayoral_retention", "erase_from", postgresql_where=text(NOT_ERASED), sqlite_where=text(NOT_ERASED)),
    )

    workflow_id: str = Field(primary_key=True, max_length=80)
    notice_id: str | None = Field(default=None, max_length=64)  # None once erased
    detention_id: str | None = Field(default=None, max_length=64)  # None once erased
    revision: int
    municipality: str = Field(max_length=4)
    kind: str = Field(max_length=16)
    status: str = Field(max_length=16)
    closed_reason: str | None = Field(default=None, max_length=32)
    closed_at: datetime | None = Field(default=None, sa_column=utc())
    received_at: datetime = Field(sa_column=utc(nullable=False))
    starts_on: date
    ends_on: date | None = None
    # The day the term of erasure counts from: the return, or the end of the leave.
    erase_from: date
    offence_category: str | None = Field(default=None, max_length=16)  # None once erased
    measure: str | None = Field(default=None, max_length=8)  # None once erased
    unrest_expected: bool = False
    compressed: bool = False
    decision: str | None = Field(default=None, max_length=16)
    assessed_at: datetime | None = Field(default=None, sa_column=utc())
    assessed_before_date: bool | None = None
    # The types of the measures decided, comma-separated (area_ban,restraining_order).
    measure_types: str = Field(default="", max_length=200)
    open_tasks: int = 0
    overdue_count: int = 0
    policy_version: str = Field(max_length=64)
    projected_at: datetime = Field(sa_column=utc(nullable=False))
    erased_at: datetime | None = Field(default=None, sa_column=utc())


class WebSessionRow(SQLModel, table=True):
    """A signed-in browser: who, with which roles and municipalities, since when and when
    last seen. The cookie holds a random value; only its SHA-256 is kept here. A sign-in
    that has not come back from the identity provider yet holds its state in ``pending``."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_seen", "last_seen_at"),)

    id_hash: str = Field(primary_key=True, max_length=64)
    user_id: str | None = Field(default=None, max_length=100)
    roles: str | None = Field(default=None, max_length=200)
    municipalities: str | None = Field(default=None, max_length=2000)
    csrf: str = Field(max_length=64)
    pending: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(sa_column=utc(nullable=False))
    last_seen_at: datetime = Field(sa_column=utc(nullable=False))


class IdempotencyKeyRow(SQLModel, table=True):
    """A request sent with an ``Idempotency-Key``, and what it was answered, for a day: a
    repeat with the same key gets the same answer. By the SHA-256 of caller and key; the
    answer is kept as sent, and is erased with the row."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created", "created_at"),)

    id_hash: str = Field(primary_key=True, max_length=64)
    fingerprint: str = Field(max_length=64, description="SHA-256 of method, path and body")
    status: int | None = Field(default=None, description="None while the first request is being answered")
    body: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    media_type: str | None = Field(default=None, max_length=100)
    location: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(sa_column=utc(nullable=False))

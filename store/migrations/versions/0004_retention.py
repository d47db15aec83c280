"""retention: erased rows and erased offence data

A closed case past its term keeps only an anonymous row (``erased_at``), so the columns
it empties may be empty; a released case's offence data goes at the latest six months
after release (``offence_erased_at``), and whether the conviction is final is kept to
know which cases that concerns. Rows written before this revision do not know that
(``conviction_final`` NULL): retention takes them as qualifying when their offence is
violent or sexual, erring towards erasure.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_ERASED = "erased_at IS NULL"
EMPTIED_WHEN_ERASED = {
    "prison": sqlmodel.sql.sqltypes.AutoString(length=64),
    "detention_start": sa.Date(),
    "offence_category": sqlmodel.sql.sqltypes.AutoString(length=32),
    "notified_at": sa.DateTime(timezone=True),
}


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("conviction_final", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("offence_erased_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
        for column, type_ in EMPTIED_WHEN_ERASED.items():
            batch.alter_column(column, existing_type=type_, nullable=True)
    op.create_index(
        "ix_cases_retention_closed",
        "cases",
        ["closed_at"],
        postgresql_where=sa.text(NOT_ERASED),
        sqlite_where=sa.text(NOT_ERASED),
    )


def downgrade() -> None:
    """The schema before cannot hold an erased row: those rows go (and with them their
    share of the dashboard's counts); erased offence data reads 'erased'."""
    op.drop_index("ix_cases_retention_closed", table_name="cases")
    op.execute("DELETE FROM cases WHERE erased_at IS NOT NULL")
    op.execute("UPDATE cases SET offence_category = 'erased' WHERE offence_category IS NULL")
    with op.batch_alter_table("cases") as batch:
        for column, type_ in EMPTIED_WHEN_ERASED.items():
            batch.alter_column(column, existing_type=type_, nullable=False)
        batch.drop_column("erased_at")
        batch.drop_column("offence_erased_at")
        batch.drop_column("conviction_final")

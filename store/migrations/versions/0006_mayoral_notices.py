"""mayoral notices: the mayor's track (BIJ), one row per notice, no name or BSN

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_ERASED = sa.text("erased_at IS NULL")


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "mayoral_notices",
        sa.Column("workflow_id", _text(80), primary_key=True),
        sa.Column("notice_id", _text(64), nullable=True),
        sa.Column("detention_id", _text(64), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("municipality", _text(4), nullable=False),
        sa.Column("kind", _text(16), nullable=False),
        sa.Column("status", _text(16), nullable=False),
        sa.Column("closed_reason", _text(32), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("erase_from", sa.Date(), nullable=False),
        sa.Column("offence_category", _text(16), nullable=True),
        sa.Column("measure", _text(8), nullable=True),
        sa.Column("unrest_expected", sa.Boolean(), nullable=False),
        sa.Column("compressed", sa.Boolean(), nullable=False),
        sa.Column("decision", _text(16), nullable=True),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assessed_before_date", sa.Boolean(), nullable=True),
        sa.Column("measure_types", _text(200), nullable=False),
        sa.Column("open_tasks", sa.Integer(), nullable=False),
        sa.Column("overdue_count", sa.Integer(), nullable=False),
        sa.Column("policy_version", _text(64), nullable=False),
        sa.Column("projected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
    )
    # The mayor's office's list: by municipality, soonest return or leave first.
    op.create_index("ix_mayoral_municipality_date", "mayoral_notices", ["municipality", "starts_on", "workflow_id"])
    op.create_index("ix_mayoral_status", "mayoral_notices", ["status"])
    op.create_index("ix_mayoral_detention", "mayoral_notices", ["detention_id"])
    op.create_index(
        "ix_mayoral_retention",
        "mayoral_notices",
        ["erase_from"],
        postgresql_where=NOT_ERASED,
        sqlite_where=NOT_ERASED,
    )


def downgrade() -> None:
    op.drop_table("mayoral_notices")

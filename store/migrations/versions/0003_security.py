"""security: the audit log, and which cases the mayor's office may see

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("roles", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
    )
    op.create_index("ix_audit_user", "audit_log", ["user_id", "id"])
    op.create_index("ix_audit_case", "audit_log", ["case_id", "id"])
    op.create_index("ix_audit_at", "audit_log", ["at"])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("mayoral_notice", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("mayoral_notice")
    op.drop_table("audit_log")

"""web sessions: the browsers signed in to the web front, by the hash of their cookie

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sqlmodel.sql.sqltypes.AutoString(length=64), primary_key=True),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("roles", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("municipalities", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("csrf", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("pending", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_web_sessions_seen", "web_sessions", ["last_seen_at"])


def downgrade() -> None:
    op.drop_table("web_sessions")

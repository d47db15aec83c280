"""intake: the message box's messages once acted on or kept aside, and how far it was read

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "intake_messages",
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=100), primary_key=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    )
    op.create_index("ix_intake_outcome", "intake_messages", ["outcome", "sequence"])
    op.create_table(
        "intake_cursor",
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=40), primary_key=True),
        sa.Column("cursor", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("intake_cursor")
    op.drop_table("intake_messages")

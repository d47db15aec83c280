"""dashboard: screening rows carry municipality and openness; indexes for its counts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ATTENTION = "status = 'open' AND (overdue IS true OR at_risk IS true)"


def upgrade() -> None:
    with op.batch_alter_table("screenings") as batch:
        batch.add_column(sa.Column("municipality", sqlmodel.sql.sqltypes.AutoString(length=4), nullable=True))
        batch.add_column(sa.Column("case_open", sa.Boolean(), nullable=True))
    # Rows written before this revision take their case's values.
    op.execute(
        "UPDATE screenings SET"
        " municipality = (SELECT municipality FROM cases WHERE cases.case_id = screenings.case_id),"
        " case_open = (SELECT closed_reason IS NULL FROM cases WHERE cases.case_id = screenings.case_id)"
    )
    with op.batch_alter_table("screenings") as batch:
        batch.alter_column("municipality", nullable=False)
        batch.alter_column("case_open", nullable=False)
    op.create_index(
        "ix_screenings_dashboard",
        "screenings",
        ["municipality", "condition", "status"],
        postgresql_where=sa.text("case_open"),
        sqlite_where=sa.text("case_open"),
    )
    op.create_index(
        "ix_screenings_national",
        "screenings",
        ["condition", "status"],
        postgresql_where=sa.text("case_open"),
        sqlite_where=sa.text("case_open"),
    )
    op.create_index("ix_cases_phase", "cases", ["phase"])
    op.create_index(
        "ix_tasks_attention",
        "tasks",
        ["municipality", "team"],
        postgresql_include=["overdue", "at_risk"],
        postgresql_where=sa.text(ATTENTION),
        sqlite_where=sa.text(ATTENTION),
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_attention", table_name="tasks")
    op.drop_index("ix_cases_phase", table_name="cases")
    op.drop_index("ix_screenings_national", table_name="screenings")
    op.drop_index("ix_screenings_dashboard", table_name="screenings")
    with op.batch_alter_table("screenings") as batch:
        batch.drop_column("case_open")
        batch.drop_column("municipality")

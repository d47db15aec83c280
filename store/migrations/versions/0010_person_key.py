"""person key: a case's pseudonym of its person across detentions (a keyed hash, never the BSN)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("person_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch.create_index("ix_cases_person_key", ["person_key"])


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_person_key")
        batch.drop_column("person_key")

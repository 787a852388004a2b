"""Eval curation: candidates wait in eval_cases without a dataset; reviews record when and why.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from obs.store.schema import UtcTimestamp

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: Where candidates and rejected cases go on downgrade (the old schema has no "no dataset").
DOWNGRADE_DATASET = "_triage"


def upgrade() -> None:
    # batch mode: SQLite cannot ALTER a column's nullability, so Alembic copies the table there.
    with op.batch_alter_table("eval_cases") as batch:
        batch.alter_column("dataset", existing_type=sa.Text, nullable=True)
        batch.add_column(sa.Column("reviewed_at", UtcTimestamp))
        batch.add_column(sa.Column("reject_reason", sa.Text))
        batch.create_index("ix_eval_cases_call_id", ["call_id"])


def downgrade() -> None:
    op.execute(sa.text(f"UPDATE eval_cases SET dataset = '{DOWNGRADE_DATASET}' WHERE dataset IS NULL"))
    with op.batch_alter_table("eval_cases") as batch:
        batch.drop_index("ix_eval_cases_call_id")
        batch.drop_column("reject_reason")
        batch.drop_column("reviewed_at")
        batch.alter_column("dataset", existing_type=sa.Text, nullable=False)

"""Named replay runs (replay_runs, replay_run_items), and llm_calls indexed on replay_of.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from obs.store.schema import Json, UtcTimestamp

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_llm_calls_replay_of", "llm_calls", ["replay_of"])
    op.create_table(
        "replay_runs",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", UtcTimestamp, nullable=False),
        sa.Column("finished_at", UtcTimestamp, nullable=False),
        sa.Column("provider", sa.Text),
        sa.Column("selection", Json),
        sa.Column("overrides", Json),
        sa.Column("calls", sa.Integer, nullable=False),
        sa.Column("summary", Json),
        sa.PrimaryKeyConstraint("id", name="pk_replay_runs"),
        sa.UniqueConstraint("name", name="uq_replay_runs_name"),
    )
    op.create_index("ix_replay_runs_created_at", "replay_runs", ["created_at"])
    op.create_table(
        "replay_run_items",
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("call_id", sa.Text, nullable=False),
        sa.Column("replay_id", sa.Text),
        sa.Column("changed", sa.Boolean),
        sa.Column("error", sa.Text),
        sa.PrimaryKeyConstraint("run_id", "position", name="pk_replay_run_items"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["replay_runs.id"], name="fk_replay_run_items_run_id_replay_runs", ondelete="CASCADE"
        ),
    )


def downgrade() -> None:
    op.drop_table("replay_run_items")
    op.drop_index("ix_replay_runs_created_at", table_name="replay_runs")
    op.drop_table("replay_runs")
    op.drop_index("ix_llm_calls_replay_of", table_name="llm_calls")

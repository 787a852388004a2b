"""Rollups for the dashboard at scale: rollup_calls, rollup_histograms (histograms), rollup_values; filled from
the calls already stored by 0010.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from obs.store.schema import Money, UtcTimestamp

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_COUNTS = ("calls", "errors", "refusals", "thumbs_down", "unpriced_ok", "priced_calls")
_SUMS = ("prompt_tokens", "completion_tokens", "ttft_calls", "ttft_latency_calls", "ttft_latency_ms")


def upgrade() -> None:
    op.create_table(
        "rollup_calls",
        sa.Column("grain", sa.Text, nullable=False),
        sa.Column("ts", UtcTimestamp, nullable=False),
        sa.Column("feature", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("prompt_version", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        *[sa.Column(name, sa.BigInteger, nullable=False) for name in _COUNTS],
        sa.Column("cost_usd", Money, nullable=False),
        *[sa.Column(name, sa.BigInteger, nullable=False) for name in _SUMS],
        sa.PrimaryKeyConstraint(
            "grain", "ts", "feature", "model", "prompt_version", "source", name=op.f("pk_rollup_calls")
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "rollup_histograms",
        sa.Column("grain", sa.Text, nullable=False),
        sa.Column("ts", UtcTimestamp, nullable=False),
        sa.Column("feature", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("metric", sa.Text, nullable=False),
        sa.Column("bucket", sa.Integer, nullable=False),
        sa.Column("calls", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint(
            "grain", "ts", "feature", "model", "source", "metric", "bucket", name=op.f("pk_rollup_histograms")
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "rollup_values",
        sa.Column("ts", UtcTimestamp, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("calls", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("ts", "kind", "value", name=op.f("pk_rollup_values")),
        sqlite_with_rowid=False,
    )
    # Filled from the stored calls by 0010, which recounts them (rollup.rebuild runs today's sql/, which names
    # the columns as 0010 leaves them).


def downgrade() -> None:
    for table in ("rollup_values", "rollup_histograms", "rollup_calls"):
        op.drop_table(table)

"""llm_calls indexed on latency_ms: the Latency page's slowest calls without scanning the window.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_llm_calls_latency_ms", "llm_calls", ["latency_ms"])


def downgrade() -> None:
    op.drop_index("ix_llm_calls_latency_ms", table_name="llm_calls")

"""llm_calls indexed on (session_id, ts): the Sessions page opens one conversation without scanning the table.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_llm_calls_session_id_ts", "llm_calls", ["session_id", "ts"])


def downgrade() -> None:
    op.drop_index("ix_llm_calls_session_id_ts", table_name="llm_calls")

"""llm_calls.cache_write_tokens: the prompt tokens a call wrote to the provider's prompt cache.

Anthropic bills a cache write at its own rate (1.25 times the input rate, for a 5-minute cache), so a call's cost
can be checked, and re-priced by `obs recost`, only when the count is stored. Calls stored before it have NULL.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("llm_calls", sa.Column("cache_write_tokens", sa.Integer()))


def downgrade() -> None:
    op.drop_column("llm_calls", "cache_write_tokens")

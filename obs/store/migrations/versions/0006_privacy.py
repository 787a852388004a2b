"""Privacy: the policy each call was stored under (llm_calls.privacy_policy).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("llm_calls", sa.Column("privacy_policy", sa.Text))


def downgrade() -> None:
    op.drop_column("llm_calls", "privacy_policy")

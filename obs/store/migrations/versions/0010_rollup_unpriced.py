"""rollup_calls.unpriced_ok becomes rollup_calls.unpriced: the calls that used the model but have no known price
(sql/_unpriced.sql), a failed call with partial usage included; recounted from the stored calls.

Before, it counted the calls that succeeded without a price, and the Costs page counted every call without a
cost, a 429 that never got as far as a token included, so the two disagreed. The rollups are rebuilt (as
`obs rollup rebuild` does), which also fills them for a database that comes from before 0007.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

from obs.store import rollup

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE rollup_calls RENAME COLUMN unpriced_ok TO unpriced")
    rollup.rebuild(op.get_bind())


def downgrade() -> None:
    # The older count left out failed calls with partial usage and no price; that version's
    # `obs rollup rebuild` recounts it exactly.
    op.execute("ALTER TABLE rollup_calls RENAME COLUMN unpriced TO unpriced_ok")

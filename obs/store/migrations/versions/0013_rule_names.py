"""Default alert rules named without their values (the table shows the threshold): "Daily budget per feature",
not "Daily budget per feature ($100)". A rule a user renamed keeps its name.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

RENAMED = {"Daily budget per feature ($100)": "Daily budget per feature",
           "Daily budget per tenant ($250)": "Daily budget per tenant"}  # fmt: skip


def upgrade() -> None:
    for old, new in RENAMED.items():
        op.execute(sa.text("UPDATE alert_rules SET name = :new WHERE name = :old").bindparams(new=new, old=old))


def downgrade() -> None:
    for old, new in RENAMED.items():
        op.execute(sa.text("UPDATE alert_rules SET name = :old WHERE name = :new").bindparams(new=new, old=old))

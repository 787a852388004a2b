"""Alerts: rules (with the default set), events, and the webhook outbox.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from obs.alerts.rules import DEFAULT_RULES
from obs.store.schema import Json, UtcTimestamp

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    rules = op.create_table(
        "alert_rules",
        sa.Column("id", _ID, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("window_minutes", sa.Integer, nullable=False),
        sa.Column("threshold", sa.Float),
        sa.Column("factor", sa.Float),
        sa.Column("min_volume", sa.Integer, nullable=False),
        sa.Column("cooldown_minutes", sa.Integer, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcTimestamp, nullable=False),
        sa.Column("updated_at", UtcTimestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_rules"),
        sa.UniqueConstraint("name", name="uq_alert_rules_name"),
    )
    op.create_table(
        "alert_events",
        sa.Column("id", _ID, autoincrement=True),
        sa.Column("rule_id", _ID, nullable=False),
        sa.Column("subject_key", sa.Text, nullable=False),
        sa.Column("subject", Json, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("opened_at", UtcTimestamp, nullable=False),
        sa.Column("last_seen_at", UtcTimestamp, nullable=False),
        sa.Column("resolved_at", UtcTimestamp),
        sa.Column("checks", sa.Integer, nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("baseline", sa.Float),
        sa.Column("volume", sa.Integer),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("link", Json),
        sa.PrimaryKeyConstraint("id", name="pk_alert_events"),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["alert_rules.id"], name="fk_alert_events_rule_id_alert_rules", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_alert_events_rule_id_subject_key", "alert_events", ["rule_id", "subject_key"])
    op.create_index("ix_alert_events_status", "alert_events", ["status"])
    op.create_table(
        "alert_notifications",
        sa.Column("id", _ID, autoincrement=True),
        sa.Column("event_id", _ID, nullable=False),
        sa.Column("change", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", UtcTimestamp, nullable=False),
        sa.Column("sent_at", UtcTimestamp),
        sa.PrimaryKeyConstraint("id", name="pk_alert_notifications"),
        sa.ForeignKeyConstraint(
            ["event_id"], ["alert_events.id"], name="fk_alert_notifications_event_id_alert_events", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_alert_notifications_status", "alert_notifications", ["status"])
    now = datetime.now(UTC)
    op.bulk_insert(
        rules,
        [
            {
                "name": r.name,
                "kind": r.kind,
                "scope": r.scope,
                "window_minutes": r.window_minutes,
                "threshold": r.threshold,
                "factor": r.factor,
                "min_volume": r.min_volume,
                "cooldown_minutes": r.cooldown_minutes,
                "enabled": r.enabled,
                "created_at": now,
                "updated_at": now,
            }
            for r in DEFAULT_RULES
        ],
    )


def downgrade() -> None:
    for table in ("alert_notifications", "alert_events", "alert_rules"):
        op.drop_table(table)

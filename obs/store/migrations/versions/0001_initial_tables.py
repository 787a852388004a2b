"""Initial tables: llm_calls, llm_call_content, spans, feedback, eval_cases.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from obs.store.schema import Json, Money, UtcTimestamp

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "llm_calls",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("trace_id", sa.Text, nullable=False),
        sa.Column("parent_id", sa.Text),
        sa.Column("ts", UtcTimestamp, nullable=False),
        sa.Column("user_id", sa.Text),
        sa.Column("session_id", sa.Text),
        sa.Column("tenant_id", sa.Text),
        sa.Column("feature", sa.Text),
        sa.Column("tags", Json),
        sa.Column("metadata", Json),
        sa.Column("provider", sa.Text),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("response_model", sa.Text),
        sa.Column("temperature", sa.Float),
        sa.Column("params", Json),
        sa.Column("prompt_version", sa.Text),
        sa.Column("finish_reason", sa.Text),
        sa.Column("prompt_tokens", sa.Integer),
        sa.Column("completion_tokens", sa.Integer),
        sa.Column("cached_tokens", sa.Integer),
        sa.Column("reasoning_tokens", sa.Integer),
        sa.Column("cost_usd", Money),
        sa.Column("latency_ms", sa.Integer),
        sa.Column("latency_ms_first_token", sa.Integer),
        sa.Column("stream", sa.Boolean, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("error_type", sa.Text),
        sa.Column("is_refusal", sa.Boolean, nullable=False),
        sa.Column("user_feedback", sa.Text),
        sa.Column("content_state", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("replay_of", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_llm_calls"),
    )
    for columns in (["ts"], ["trace_id"], ["feature", "ts"], ["user_id", "ts"], ["model", "ts"]):
        op.create_index("ix_llm_calls_" + "_".join(columns), "llm_calls", columns)

    op.create_table(
        "llm_call_content",
        sa.Column("call_id", sa.Text, nullable=False),
        sa.Column("system_prompt", sa.Text),
        sa.Column("messages", Json),
        sa.Column("tools", Json),
        sa.Column("response", Json),
        sa.Column("tool_calls", Json),
        sa.Column("output_text", sa.Text),
        sa.PrimaryKeyConstraint("call_id", name="pk_llm_call_content"),
        sa.ForeignKeyConstraint(
            ["call_id"], ["llm_calls.id"], name="fk_llm_call_content_call_id_llm_calls", ondelete="CASCADE"
        ),
    )

    op.create_table(
        "spans",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("trace_id", sa.Text, nullable=False),
        sa.Column("parent_id", sa.Text),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("start_ts", UtcTimestamp, nullable=False),
        sa.Column("end_ts", UtcTimestamp),
        sa.Column("latency_ms", sa.Integer),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("input", Json),
        sa.Column("output", Json),
        sa.Column("metadata", Json),
        sa.Column("user_id", sa.Text),
        sa.Column("session_id", sa.Text),
        sa.Column("tenant_id", sa.Text),
        sa.Column("feature", sa.Text),
        sa.Column("tags", Json),
        sa.PrimaryKeyConstraint("id", name="pk_spans"),
    )
    op.create_index("ix_spans_trace_id", "spans", ["trace_id"])
    op.create_index("ix_spans_start_ts", "spans", ["start_ts"])

    op.create_table(
        "feedback",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("ts", UtcTimestamp, nullable=False),
        sa.Column("call_id", sa.Text),
        sa.Column("trace_id", sa.Text),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("comment", sa.Text),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("reviewer", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
    )
    op.create_index("ix_feedback_call_id", "feedback", ["call_id"])
    op.create_index("ix_feedback_trace_id", "feedback", ["trace_id"])

    op.create_table(
        "eval_cases",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True),
        sa.Column("dataset", sa.Text, nullable=False),
        sa.Column("call_id", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("reasons", Json),
        sa.Column("expected_output", sa.Text),
        sa.Column("label", sa.Text),
        sa.Column("notes", sa.Text),
        sa.Column("reviewer", sa.Text),
        sa.Column("created_at", UtcTimestamp, nullable=False),
        sa.Column("updated_at", UtcTimestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_eval_cases"),
        sa.UniqueConstraint("dataset", "call_id", name="uq_eval_cases_dataset_call_id"),
        sa.ForeignKeyConstraint(
            ["call_id"], ["llm_calls.id"], name="fk_eval_cases_call_id_llm_calls", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_eval_cases_status", "eval_cases", ["status"])


def downgrade() -> None:
    for table in ("eval_cases", "feedback", "spans", "llm_call_content", "llm_calls"):
        op.drop_table(table)

"""Repeated system prompts stored once: llm_texts, llm_call_content.system_prompt_hash, and llm_calls_full
putting the shared prompt back into ``prompt`` (the seed guide's one-table shape).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_VIEW = """
CREATE VIEW llm_calls_full AS
SELECT c.id, c.trace_id, c.parent_id, c.ts, c.user_id, c.tenant_id, c.feature, c.model,
       {prompt} AS prompt, x.response AS response, x.tool_calls AS tool_calls,
       c.prompt_tokens, c.completion_tokens, c.cost_usd, c.latency_ms, c.error, c.user_feedback
FROM llm_calls c
LEFT JOIN llm_call_content x ON x.call_id = c.id
LEFT JOIN llm_texts t ON t.hash = x.system_prompt_hash
"""
# The first message holds {"content_sha256": hash} instead of the shared system prompt: put the text back.
_PROMPT = {
    "postgresql": "CASE WHEN x.messages -> 0 ? 'content_sha256' "
    "THEN jsonb_set(x.messages #- '{0,content_sha256}', '{0,content}', to_jsonb(t.text)) ELSE x.messages END",
    "sqlite": "CASE WHEN json_type(x.messages, '$[0].content_sha256') IS NOT NULL "
    "THEN json_set(json_remove(x.messages, '$[0].content_sha256'), '$[0].content', t.text) ELSE x.messages END",
}
_OLD_VIEW = _VIEW.replace("LEFT JOIN llm_texts t ON t.hash = x.system_prompt_hash\n", "")


def upgrade() -> None:
    op.create_table(
        "llm_texts",
        sa.Column("hash", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("hash", name=op.f("pk_llm_texts")),
    )
    op.add_column("llm_call_content", sa.Column("system_prompt_hash", sa.Text))
    op.execute("DROP VIEW llm_calls_full")
    op.execute(_VIEW.format(prompt=_PROMPT[op.get_bind().dialect.name]))


def downgrade() -> None:
    op.execute("DROP VIEW llm_calls_full")
    op.execute(_OLD_VIEW.format(prompt="x.messages"))
    op.drop_column("llm_call_content", "system_prompt_hash")
    op.drop_table("llm_texts")

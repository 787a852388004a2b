"""The seed guide's one-table shape as a view, llm_calls_full.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


# The seed guide's one-table shape, so a user's own SQL from the guide keeps working.
LLM_CALLS_FULL_VIEW = """
CREATE VIEW llm_calls_full AS
SELECT c.id, c.trace_id, c.parent_id, c.ts, c.user_id, c.tenant_id, c.feature, c.model,
       x.messages AS prompt, x.response AS response, x.tool_calls AS tool_calls,
       c.prompt_tokens, c.completion_tokens, c.cost_usd, c.latency_ms, c.error, c.user_feedback
FROM llm_calls c
LEFT JOIN llm_call_content x ON x.call_id = c.id
"""


def upgrade() -> None:
    op.execute(LLM_CALLS_FULL_VIEW)


def downgrade() -> None:
    op.execute("DROP VIEW llm_calls_full")

"""The store's tables, in SQLAlchemy Core. Alembic migrations in obs/store/migrations create them.

``llm_calls`` is narrow metadata, fast to scan; the content of each call lives in ``llm_call_content`` so
dashboards stay fast and retention can expire content without touching metrics. Column names follow the
seed guide's SQL (``ts``, ``feature``, ``model``, ``user_id``, ``cost_usd``, ``latency_ms``, ...).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TIMESTAMP

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcTimestamp(TypeDecorator[datetime]):
    """Stored as UTC (TIMESTAMPTZ on PostgreSQL, fixed-width ISO text on SQLite), returned tz-aware in UTC."""

    impl = TIMESTAMP(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = to_utc(value)
        # SQLite has no time zones: store naive UTC so text comparison orders correctly.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


def to_utc(value: datetime) -> datetime:
    """A datetime to store: timezone-aware (a naive one is refused, never guessed), in UTC."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: obs stores UTC, pass a timezone-aware datetime")
    return value.astimezone(UTC)


def sqlite_text(value: datetime) -> str:
    """The fixed-width naive UTC text SQLAlchemy writes for SQLite, so string order is time order."""
    return to_utc(value).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def as_utc(value: datetime | str) -> datetime:
    """A stored timestamp as an aware UTC datetime (SQLite hands back naive UTC text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: JSON everywhere, JSONB on PostgreSQL (indexable, ``::text`` and operators work as in the seed guide).
Json = JSON().with_variant(JSONB(), "postgresql")

#: Dollars with enough digits for a sub-cent call; NULL means "unpriced", never a fake 0.
Money = Numeric(20, 10, asdecimal=True)

llm_calls = Table(
    "llm_calls",
    metadata,
    Column("id", Text, primary_key=True),
    Column("trace_id", Text, nullable=False),
    Column("parent_id", Text),
    Column("ts", UtcTimestamp, nullable=False),
    Column("user_id", Text),
    Column("session_id", Text),
    Column("tenant_id", Text),
    Column("feature", Text),
    Column("tags", Json),
    Column("metadata", Json),
    Column("provider", Text),
    Column("model", Text, nullable=False),
    Column("response_model", Text),
    Column("temperature", Float),
    Column("params", Json),
    Column("prompt_version", Text),
    Column("finish_reason", Text),
    Column("prompt_tokens", Integer),
    Column("completion_tokens", Integer),
    Column("cached_tokens", Integer),
    Column("reasoning_tokens", Integer),
    Column("cost_usd", Money),
    Column("latency_ms", Integer),
    Column("latency_ms_first_token", Integer),
    Column("stream", Boolean, nullable=False, default=False),
    Column("status", Text, nullable=False, default="ok"),
    Column("error", Text),
    Column("error_type", Text),
    Column("is_refusal", Boolean, nullable=False, default=False),
    Column("user_feedback", Text),
    Column("content_state", Text, nullable=False, default="full"),
    Column("source", Text, nullable=False, default="sdk"),
    Column("replay_of", Text),
    Column("privacy_policy", Text),  # the privacy policy the call was stored under (migration 0004)
    Column("cache_write_tokens", Integer),  # prompt tokens written to the provider's cache (migration 0011)
    Index(None, "ts"),
    Index(None, "trace_id"),
    Index(None, "feature", "ts"),
    Index(None, "user_id", "ts"),
    Index(None, "model", "ts"),
    Index(None, "replay_of"),
    Index(None, "latency_ms"),  # the slowest calls of a window: read backwards, stop after the page (0009)
    Index(None, "session_id", "ts"),  # one conversation, in order (0012)
)

llm_call_content = Table(
    "llm_call_content",
    metadata,
    Column("call_id", Text, ForeignKey("llm_calls.id", ondelete="CASCADE"), primary_key=True),
    Column("system_prompt", Text),
    Column("messages", Json),
    Column("tools", Json),
    Column("response", Json),
    Column("tool_calls", Json),
    Column("output_text", Text),
    # Set when the system prompt is stored once in llm_texts (and left out of system_prompt and messages[0]).
    Column("system_prompt_hash", Text),
)

#: Texts many calls repeat (a system prompt), stored once under their SHA-256 (migration 0008).
llm_texts = Table(
    "llm_texts",
    metadata,
    Column("hash", Text, primary_key=True),
    Column("text", Text, nullable=False),
)

spans = Table(
    "spans",
    metadata,
    Column("id", Text, primary_key=True),
    Column("trace_id", Text, nullable=False),
    Column("parent_id", Text),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False, default="span"),
    Column("start_ts", UtcTimestamp, nullable=False),
    Column("end_ts", UtcTimestamp),
    Column("latency_ms", Integer),
    Column("status", Text, nullable=False, default="ok"),
    Column("error", Text),
    Column("input", Json),
    Column("output", Json),
    Column("metadata", Json),
    Column("user_id", Text),
    Column("session_id", Text),
    Column("tenant_id", Text),
    Column("feature", Text),
    Column("tags", Json),
    Index(None, "trace_id"),
    Index(None, "start_ts"),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Text, primary_key=True),
    Column("ts", UtcTimestamp, nullable=False),
    Column("call_id", Text),
    Column("trace_id", Text),
    Column("value", Text, nullable=False),
    Column("score", Float),
    Column("comment", Text),
    Column("source", Text, nullable=False, default="app"),
    Column("reviewer", Text),
    Index(None, "call_id"),
    Index(None, "trace_id"),
)

eval_cases = Table(
    "eval_cases",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    # NULL while the case is a candidate in the triage queue (or was rejected there); a dataset name once accepted.
    Column("dataset", Text),
    Column("call_id", Text, ForeignKey("llm_calls.id", ondelete="CASCADE"), nullable=False),
    Column("status", Text, nullable=False, default="candidate"),
    Column("reasons", Json),
    Column("expected_output", Text),
    # Comma-separated labels ("billing, tone").
    Column("label", Text),
    Column("notes", Text),
    Column("reviewer", Text),
    Column("created_at", UtcTimestamp, nullable=False),
    Column("updated_at", UtcTimestamp, nullable=False),
    Column("reviewed_at", UtcTimestamp),
    Column("reject_reason", Text),
    UniqueConstraint("dataset", "call_id"),
    Index(None, "status"),
    Index(None, "call_id"),
)

# --- alerts -------------------------------------------------------------------------------------------

_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")

alert_rules = Table(
    "alert_rules",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("window_minutes", Integer, nullable=False),
    Column("threshold", Float),
    Column("factor", Float),
    Column("min_volume", Integer, nullable=False),
    Column("cooldown_minutes", Integer, nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", UtcTimestamp, nullable=False),
    Column("updated_at", UtcTimestamp, nullable=False),
    UniqueConstraint("name"),
)

#: One row per incident: a rule firing for one subject (a feature, a model + prompt version, a user, ...),
#: from the check that opened it to the check that saw it resolved.
alert_events = Table(
    "alert_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("rule_id", _BIG_ID, ForeignKey("alert_rules.id", ondelete="CASCADE"), nullable=False),
    Column("subject_key", Text, nullable=False),
    Column("subject", Json, nullable=False),
    Column("status", Text, nullable=False),  # firing | resolved
    Column("opened_at", UtcTimestamp, nullable=False),
    Column("last_seen_at", UtcTimestamp, nullable=False),
    Column("resolved_at", UtcTimestamp),
    Column("checks", Integer, nullable=False, default=1),
    Column("value", Float),
    Column("baseline", Float),
    Column("volume", Integer),
    Column("message", Text, nullable=False),
    Column("link", Json),
    Index(None, "rule_id", "subject_key"),
    Index(None, "status"),
)

#: The outbox of webhook notifications: written in the same transaction as the event change, delivered after,
#: retried by later checks until sent, so a failing webhook never loses an event.
alert_notifications = Table(
    "alert_notifications",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("event_id", _BIG_ID, ForeignKey("alert_events.id", ondelete="CASCADE"), nullable=False),
    Column("change", Text, nullable=False),  # opened | resolved
    Column("target", Text, nullable=False),
    Column("status", Text, nullable=False, default="pending"),  # pending | sent
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("created_at", UtcTimestamp, nullable=False),
    Column("sent_at", UtcTimestamp),
    Index(None, "status"),
)

#: A named batch replay: which calls (a dataset or a filter), with which overrides, and what changed.
replay_runs = Table(
    "replay_runs",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("created_at", UtcTimestamp, nullable=False),
    Column("finished_at", UtcTimestamp, nullable=False),
    Column("provider", Text),
    Column("selection", Json),
    Column("overrides", Json),
    Column("calls", Integer, nullable=False),
    Column("summary", Json),
    UniqueConstraint("name"),
    Index(None, "created_at"),
)

#: One call of a replay run; the replay itself is an ``llm_calls`` row (source = replay, replay_of = call_id).
replay_run_items = Table(
    "replay_run_items",
    metadata,
    Column("run_id", Text, ForeignKey("replay_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("call_id", Text, nullable=False),
    Column("replay_id", Text),
    Column("changed", Boolean),
    Column("error", Text),
)

# --- rollups (migration 0007) -------------------------------------------------------------------------
# Kept current by the store's writer in the same transaction as the calls they count (obs/store/rollup.py), so the
# dashboard reads a few thousand rows instead of scanning every call. One row per period: grain 'hour' and
# 'day' both; a dimension with no value is '' (part of the primary key, so never NULL). On SQLite they are
# WITHOUT ROWID tables: rows are stored in key order, so a time range is one contiguous read.

rollup_calls = Table(
    "rollup_calls",
    metadata,
    Column("grain", Text, primary_key=True),  # hour | day
    Column("ts", UtcTimestamp, primary_key=True),  # start of the hour or UTC day
    Column("feature", Text, primary_key=True),
    Column("model", Text, primary_key=True),
    Column("prompt_version", Text, primary_key=True),
    Column("source", Text, primary_key=True),
    Column("calls", BigInteger, nullable=False),
    Column("errors", BigInteger, nullable=False),
    Column("refusals", BigInteger, nullable=False),
    Column("thumbs_down", BigInteger, nullable=False),
    Column("unpriced", BigInteger, nullable=False),  # used the model, no price known (sql/_unpriced.sql)
    Column("priced_calls", BigInteger, nullable=False),
    Column("cost_usd", Money, nullable=False),
    Column("prompt_tokens", BigInteger, nullable=False),
    Column("completion_tokens", BigInteger, nullable=False),
    Column("ttft_calls", BigInteger, nullable=False),  # streamed, with a time to first token
    Column("ttft_latency_calls", BigInteger, nullable=False),
    Column("ttft_latency_ms", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

#: Histograms of latency, time to first token and cost: calls per log-spaced bucket (rollup.GAMMA), per period.
rollup_histograms = Table(
    "rollup_histograms",
    metadata,
    Column("grain", Text, primary_key=True),
    Column("ts", UtcTimestamp, primary_key=True),
    Column("feature", Text, primary_key=True),
    Column("model", Text, primary_key=True),
    Column("source", Text, primary_key=True),
    Column("metric", Text, primary_key=True),  # total | ttft
    Column("bucket", Integer, primary_key=True),
    Column("calls", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

#: Which filter values (feature, model, tenant_id, user_id) occur on each UTC day, and how often.
rollup_values = Table(
    "rollup_values",
    metadata,
    Column("ts", UtcTimestamp, primary_key=True),
    Column("kind", Text, primary_key=True),
    Column("value", Text, primary_key=True),
    Column("calls", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

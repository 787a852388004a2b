"""Alembic migrations create exactly the schema obs.store.schema declares, and upgrade older databases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from obs.store import db
from obs.store.schema import metadata
from obs.store.store import Store

EXPECTED_TABLES = {
    "alembic_version", "llm_calls", "llm_call_content", "spans", "feedback", "eval_cases",
    "alert_rules", "alert_events", "alert_notifications", "replay_runs", "replay_run_items",
    "rollup_calls", "rollup_histograms", "rollup_values", "llm_texts",
}  # fmt: skip
SEED_VIEW_COLUMNS = [
    "id", "trace_id", "parent_id", "ts", "user_id", "tenant_id", "feature", "model", "prompt", "response",
    "tool_calls", "prompt_tokens", "completion_tokens", "cost_usd", "latency_ms", "error", "user_feedback",
]  # fmt: skip


def test_blank_database_gets_exactly_the_declared_tables_and_columns(
    db_url: str, open_store: Callable[..., Store]
) -> None:
    store = open_store(db_url)
    inspector = sa.inspect(store.engine)
    assert set(inspector.get_table_names()) == EXPECTED_TABLES
    for table in metadata.sorted_tables:
        columns = [c["name"] for c in inspector.get_columns(table.name)]
        assert columns == [c.name for c in table.columns], table.name
    assert db.current_revision(store.engine) == db.head_revision()


def test_migrated_schema_matches_the_declared_metadata(db_url: str, open_store: Callable[..., Store]) -> None:
    store = open_store(db_url)
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    assert diff == []


def test_dashboard_access_paths_are_indexed(db_url: str, open_store: Callable[..., Store]) -> None:
    store = open_store(db_url)
    indexes = {tuple(ix["column_names"]) for ix in sa.inspect(store.engine).get_indexes("llm_calls")}
    for path in [("ts",), ("trace_id",), ("feature", "ts"), ("user_id", "ts"), ("model", "ts")]:
        assert path in indexes


def test_seed_view_has_the_seed_guides_one_table_shape(db_url: str, open_store: Callable[..., Store]) -> None:
    store = open_store(db_url)
    columns = [c["name"] for c in sa.inspect(store.engine).get_columns("llm_calls_full")]
    assert columns == SEED_VIEW_COLUMNS


def test_upgrade_from_the_first_migration_keeps_existing_rows(db_url: str, open_store: Callable[..., Store]) -> None:
    store = open_store(db_url, migrate=False)
    db.migrate(store.engine, "0001")
    assert db.current_revision(store.engine) == "0001"
    with store.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO llm_calls"
                " (id, trace_id, ts, model, stream, status, is_refusal, content_state, source)"
                " VALUES ('old', 't1', :ts, 'gpt-5-mini', false, 'ok', false, 'full', 'sdk')"
            ),
            {"ts": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC).isoformat(sep=" ")},
        )
    db.ensure_schema(store.engine)
    assert db.current_revision(store.engine) == db.head_revision()
    with store.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT id, model FROM llm_calls_full")).all()
    assert rows == [("old", "gpt-5-mini")]
    assert store.get_call("old") is not None


def test_store_migrates_on_first_use_and_init_is_idempotent(db_url: str, open_store: Callable[..., Store]) -> None:
    first = open_store(db_url)
    assert db.current_revision(first.engine) == db.head_revision()
    db.migrate(first.engine)  # a second `obs init` changes nothing
    assert db.current_revision(open_store(db_url).engine) == db.head_revision()


def test_default_rules_lose_the_values_in_their_names_and_a_renamed_rule_keeps_its_own(
    db_url: str, open_store: Callable[..., Store]
) -> None:
    store = open_store(db_url, migrate=False)
    db.migrate(store.engine, "0012")
    with store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE alert_rules SET name = 'Daily budget per feature ($100)' "
                                   "WHERE name = 'Daily budget per feature'"))  # fmt: skip
        connection.execute(sa.text("UPDATE alert_rules SET name = 'Our tenant budget' "
                                   "WHERE name = 'Daily budget per tenant'"))  # fmt: skip
    db.ensure_schema(store.engine)
    with store.engine.connect() as connection:
        names = set(connection.execute(sa.text("SELECT name FROM alert_rules")).scalars())
    assert "Daily budget per feature" in names and "Our tenant budget" in names
    assert not any("$" in name for name in names)

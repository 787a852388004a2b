"""Migration 0004 (evals) keeps the eval cases a 0003 store already had, and its downgrade keeps the queue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from obs.evals import Evals
from obs.store import db
from obs.store.store import Store

TS = datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC).isoformat(sep=" ")


def test_upgrade_keeps_existing_eval_cases_and_they_export(db_url: str, open_store: Callable[..., Store]) -> None:
    store = open_store(db_url, migrate=False)
    db.migrate(store.engine, "0003")
    with store.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO llm_calls (id, trace_id, ts, model, stream, status, is_refusal, content_state, source)"
                " VALUES ('old', 't1', :ts, 'gpt-5-mini', false, 'ok', false, 'full', 'sdk')"
            ),
            {"ts": TS},
        )
        connection.execute(
            sa.text(
                "INSERT INTO eval_cases (dataset, call_id, status, expected_output, created_at, updated_at)"
                " VALUES ('default', 'old', 'accepted', 'kept', :ts, :ts)"
            ),
            {"ts": TS},
        )
    db.ensure_schema(store.engine)
    assert db.current_revision(store.engine) == db.head_revision()
    cases = Evals(store).dataset_cases("default")
    assert [(c.case.call_id, c.case.expected_output, c.case.reviewed_at) for c in cases] == [("old", "kept", None)]


def test_downgrade_puts_waiting_and_rejected_cases_in_a_triage_dataset(
    db_url: str, open_store: Callable[..., Store]
) -> None:
    store = open_store(db_url)
    evals = Evals(store)
    with store.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO llm_calls (id, trace_id, ts, model, stream, status, is_refusal, content_state, source)"
                " VALUES ('c1', 't1', :ts, 'gpt-5-mini', false, 'ok', false, 'full', 'sdk')"
            ),
            {"ts": TS},
        )
    evals.open_call("c1")
    with store.engine.connect() as connection:
        cfg = Config()
        cfg.set_main_option("script_location", str(db.MIGRATIONS_DIR))
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0003")
        connection.commit()
    with store.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT dataset, call_id, status FROM eval_cases")).all()
    assert rows == [("_triage", "c1", "candidate")]

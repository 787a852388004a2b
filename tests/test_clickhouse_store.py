"""The store on ClickHouse (chdb, embedded): its versioned DDL, exactly-once writes, and updates as new versions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

import obs
from obs.records import CallContent, Feedback, LLMCall, Span
from obs.store.clickhouse import ddl
from obs.store.db import StoreUrlError
from obs.store.store import Store
from tests.fake_openai import FakeOpenAI, clients

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def call(i: int, **fields: object) -> LLMCall:
    values: dict[str, object] = {
        "id": f"c{i:04d}", "trace_id": f"t{i // 2:04d}", "ts": T0 + timedelta(minutes=i), "model": "gpt-5-mini",
        "feature": "help", "cost_usd": Decimal("0.0012345"), "prompt_tokens": 100 + i, "tags": ("a", "b"),
        "metadata": {"k": i},
        "content": CallContent(system_prompt="Be brief.", messages=[{"role": "system", "content": "Be brief."},
                               {"role": "user", "content": f"question {i}"}], output_text=f"answer {i}"),
    }  # fmt: skip
    values.update(fields)
    return LLMCall(**values)  # type: ignore[arg-type]


def raw_count(store: Store, table: str, where: str = "1") -> int:
    """Rows as stored, every version (FINAL off): what the engine holds before it merges."""
    with store.engine.connect() as connection:
        return int(connection.exec_driver_sql(f"SELECT count() FROM {table} WHERE {where} SETTINGS final = 0").scalar())


def test_the_ddl_creates_the_tables_once_and_records_its_version(chdb_url: str) -> None:
    store = Store(chdb_url)
    with store.engine.connect() as connection:
        assert ddl.apply(connection) == []  # applied when the store opened; nothing left
        assert ddl.current_version(connection) == ddl.head_version()
        tables = {row[0] for row in connection.exec_driver_sql("SHOW TABLES")}
        engines = dict(
            connection.exec_driver_sql(
                "SELECT name, engine FROM system.tables WHERE database = currentDatabase()"
            ).all()
        )
    assert {"llm_calls", "llm_call_content", "llm_texts", "spans", "feedback", ddl.TABLE} <= tables
    assert engines["llm_calls"] == "ReplacingMergeTree"
    with store.engine.connect() as connection:
        create = connection.exec_driver_sql("SHOW CREATE TABLE llm_calls").scalar()
        content = connection.exec_driver_sql("SHOW CREATE TABLE llm_call_content").scalar()
    assert "PARTITION BY toYYYYMM(ts)" in create and "ORDER BY (toDate(ts), feature, model, ts, id)" in create
    assert "`feature` LowCardinality(Nullable(String))" in create and "`status` LowCardinality(String)" in create
    assert "CODEC(ZSTD(3))" in content
    store.close()


def test_the_cluster_ddl_is_replicated_and_sharded_by_trace() -> None:
    [first] = [m for m in ddl.migrations() if m.version == 1]
    single, cluster = first.statements(), first.statements("prod")
    assert not any("ON CLUSTER" in s or "Distributed" in s or "Replicated" in s for s in single)
    calls = next(s for s in cluster if s.startswith("CREATE TABLE IF NOT EXISTS llm_calls_local"))
    assert "ON CLUSTER prod" in calls
    assert ("ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/llm_calls', '{replica}', "
            "_version, _deleted)") in calls  # fmt: skip
    distributed = [s for s in cluster if "ENGINE = Distributed" in s]
    assert len(distributed) == len(single) == 5  # every local table has its Distributed table
    assert (
        "CREATE TABLE IF NOT EXISTS llm_calls ON CLUSTER prod AS llm_calls_local "
        "ENGINE = Distributed(prod, currentDatabase(), llm_calls_local, cityHash64(trace_id))"
    ) in distributed
    assert any("spans_local, cityHash64(trace_id)" in s for s in distributed)  # a trace's spans on its calls' shard
    with pytest.raises(ValueError, match="letters, digits"):
        first.statements("prod; DROP TABLE x")


def test_a_batch_written_twice_is_stored_once_and_reads_back_as_written(chdb_url: str) -> None:
    store = Store(chdb_url)
    calls = [call(i) for i in range(6)]
    span = Span(id="s0001", trace_id="t0000", name="root", start_ts=T0)
    assert store.write_batch(calls, [span]).calls == 6
    again = store.write_batch(calls, [span])  # a retry, or the spool replayed
    assert (again.calls, again.spans, again.skipped) == (0, 0, 7)
    assert raw_count(store, "llm_calls") == 6 and raw_count(store, "spans") == 1
    assert store.get_call("c0003") == calls[3]  # metadata and content, exactly
    trace = store.get_trace("t0000")
    assert trace is not None and [c.id for c in trace.calls] == ["c0000", "c0001"] and trace.spans == (span,)
    store.close()


def test_copies_that_race_in_are_read_once(chdb_url: str) -> None:
    """Two writers that both found an id new both insert it: the table keeps both until it merges; reads see one."""
    store = Store(chdb_url)
    store.write_batch([call(1)])
    with store.engine.connect() as connection:
        connection.exec_driver_sql("INSERT INTO llm_calls SELECT * FROM llm_calls WHERE id = 'c0001'")
    assert raw_count(store, "llm_calls") == 2
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count() FROM llm_calls").scalar() == 1
    store.close()


def test_feedback_and_recost_are_new_versions_and_the_latest_wins(chdb_url: str) -> None:
    store = Store(chdb_url)
    early = Feedback(id="f1", ts=T0, call_id="c0002", value="thumbs_up")
    store.write_batch([], [], [early])  # feedback before its call (the call came back from the spool later)
    store.write_batch([call(2)])
    assert store.get_call("c0002").user_feedback == "thumbs_up"  # type: ignore[union-attr]
    store.write_batch([], [], [Feedback(id="f2", ts=T0 + timedelta(hours=1), call_id="c0002", value="thumbs_down")])
    store.set_costs({"c0002": Decimal("0.25")})
    got = store.get_call("c0002")
    assert got is not None and (got.user_feedback, got.cost_usd) == ("thumbs_down", Decimal("0.25"))
    assert got.content == call(2).content and got.tags == ("a", "b")  # the rest of the row is as it was
    assert raw_count(store, "llm_calls", "id = 'c0002'") >= 2  # versions, not mutations
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count() FROM llm_calls").scalar() == 1
        mutations = connection.exec_driver_sql(
            "SELECT count() FROM system.mutations WHERE database = currentDatabase()"
        )
        assert mutations.scalar() == 0
    store.close()


def test_the_sdk_records_into_chdb_exactly_once(chdb_url: str, tmp_path: Path) -> None:
    obs.configure(chdb_url, spool_dir=tmp_path / "spool")
    client = obs.wrap(clients(FakeOpenAI())[0])
    with obs.trace("ask", user_id="u1", feature="help"):
        for _ in range(3):
            client.chat.completions.create(model="gpt-5-mini", messages=[{"role": "user", "content": "hi"}])
    assert obs.flush(30)
    assert obs.stats().written == 4 and obs.stats().dropped == 0  # 3 calls and the trace's span
    store = Store(chdb_url)
    with store.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT feature, user_id, cost_usd FROM llm_calls")).all()
    assert len(rows) == 3 and all(r.feature == "help" and r.user_id == "u1" and r.cost_usd > 0 for r in rows)
    obs.configure(None)
    store.close()


def test_a_chdb_url_without_a_folder_says_what_is_expected() -> None:
    pytest.importorskip("chdb")
    with pytest.raises(StoreUrlError, match=r"chdb:///path/to/folder"):
        Store("chdb://")


def test_a_new_store_has_the_default_alert_rules_in_its_control_store(chdb_url: str) -> None:
    from obs.alerts import engine
    from obs.alerts.rules import DEFAULT_RULES

    store = Store(chdb_url)
    assert [replace(r, id=None) for r in engine.load_rules(store)] == list(DEFAULT_RULES)
    assert store.control.dialect.name == "sqlite"  # beside chdb: a SQLite file in its folder
    with store.engine.connect() as connection:  # ClickHouse reads the same rows through its SQLite table engine
        names = [row[0] for row in connection.exec_driver_sql("SELECT name FROM alert_rules ORDER BY id")]
    assert names == [r.name for r in DEFAULT_RULES]
    store.close()


def test_the_rollups_stay_equal_to_the_calls_through_feedback_recost_and_a_feedback_removed(chdb_url: str) -> None:
    from obs.store import queries

    store = Store(chdb_url)
    calls = [call(i, user_id=f"u{i % 3}", latency_ms=100 + 37 * i) for i in range(40)]
    store.write_batch(calls)
    store.write_batch(calls[:5])  # a retry: nothing counted twice
    later = T0 + timedelta(hours=2)
    down = [Feedback(id=f"f{i}", ts=later, call_id=f"c{i:04d}", value="thumbs_down") for i in range(7)]
    store.write_batch([], [], down)
    store.set_costs({f"c{i:04d}": Decimal("0.5") for i in range(10, 20)})
    store.remove_feedback("f3")
    window = {"start": T0 - timedelta(days=1), "end": T0 + timedelta(days=1)}
    rolled = queries.run("overview_kpis", db=store, **window).iloc[0]
    raw = queries.run("overview_kpis_raw", db=store, **window).iloc[0]
    assert (rolled["calls"], rolled["thumbs_down_rate"]) == (40, 6 / 40) == (raw["calls"], raw["thumbs_down_rate"])
    assert rolled["spend"] == pytest.approx(raw["spend"]) == pytest.approx(10 * 0.5 + 30 * 0.0012345)
    by_day = queries.run("daily_cost_by_feature", db=store, **window)
    assert by_day["cost"].sum() == pytest.approx(raw["spend"])
    store.close()

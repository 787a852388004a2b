"""End-to-end ingest rate: wrapped calls to committed rows, beside raw inserts of the same rows (a benchmark).

For each dialect, in one run and on a fresh schema each time:
  obs     -- N calls captured by the wrapper around the real openai client (~3 KB prompt and response, fake
             HTTP transport; captured before the clock starts) enqueued to the recorder,
             timed until flush() returns with every row committed (pricing, refusal flag, serialization, writes);
  raw     -- the same final rows, already serialized, inserted as fast as the driver allows
             (SQLite: executemany in 1,000-row transactions; PostgreSQL: COPY);
  seed    -- the seed guide's pattern, one INSERT and commit per call (on a sample, as a rate).

    .venv/bin/python -m bench.ingest [--calls 20000] [--trials 5] [--postgres URL]   (URL: $OBS_TEST_POSTGRES_URL)
"""

from __future__ import annotations

import argparse
import gc
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

from bench.overhead import PROMPT, fake_client
from obs import config
from obs.capture.build import build_call
from obs.capture.events import CallEvent
from obs.capture.openai import instrument
from obs.pricing.prices import Pricer
from obs.recorder.queue import Recorder
from obs.records import LLMCall
from obs.store.rows import Codecs
from obs.store.store import Store


def events(n: int, prefix: str) -> list[CallEvent]:
    """``n`` calls captured by the real wrapper around the real openai client (fake HTTP transport), as the
    recorder receives them: the request and response bodies, ids, times and attributes."""
    captured: list[CallEvent] = []
    client = instrument.wrap(fake_client(), captured.append)
    for i in range(n):
        attrs = {"feature": "bench", "user_id": f"u{i % 50}", "call_id": f"{prefix}{i:08d}"}
        client.chat.completions.create(model="gpt-5-mini", messages=PROMPT, obs=attrs)
    return captured


Rows = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]


def final_records(n: int, prefix: str) -> list[LLMCall]:
    """The records obs would store for ``n`` calls (extraction and pricing done, before any timing)."""
    return [build_call(e, Pricer(), config.REFUSAL_PATTERNS) for e in events(n, prefix)]


def encode_rows(records: list[LLMCall], dialect: str) -> Rows:
    """The call and content rows of the records, encoded for the driver."""
    codecs = Codecs(dialect)
    return [codecs.call_row(r) for r in records], [codecs.content_row(r) for r in records]


def columns(dialect: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    codecs = Codecs(dialect)
    return codecs.calls.columns, codecs.content.columns


def obs_rate(url: str, n: int, spool: Path) -> float:
    recorder = Recorder(url, spool_dir=spool)
    Store(url).close()
    evs = events(n, "o")
    gc.collect()  # each method starts from a collected heap (making the events allocated a lot)
    start = time.perf_counter()
    for e in evs:
        recorder.enqueue(e)
    assert recorder.flush(600)
    elapsed = time.perf_counter() - start
    stats = recorder.stats()
    assert stats.written == n and stats.spooled == 0, stats
    recorder.shutdown(5)
    return n / elapsed


def sqlite_raw(path: str, n: int, *, encode: bool = False) -> float:
    """Rows already encoded; with ``encode``, the JSON/time encoding of the final records is timed too."""
    records = final_records(n, "e" if encode else "r")
    rows = None if encode else encode_rows(records, "sqlite")
    return n / sqlite_insert(path, lambda: rows or encode_rows(records, "sqlite"))


def sqlite_insert(path: str, rows: Callable[[], Rows]) -> float:
    """Seconds to insert ``rows()`` (called inside the timing) in 1,000-row transactions, as fast as sqlite3 can."""
    call_cols, content_cols = columns("sqlite")
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    gc.collect()
    call_sql = f"INSERT INTO llm_calls ({', '.join(call_cols)}) VALUES ({', '.join('?' * len(call_cols))})"
    marks = ", ".join("?" * len(content_cols))
    content_sql = f"INSERT INTO llm_call_content ({', '.join(content_cols)}) VALUES ({marks})"
    start = time.perf_counter()
    calls, contents = rows()
    for i in range(0, len(calls), 1000):
        with con:
            con.executemany(call_sql, calls[i : i + 1000])
            con.executemany(content_sql, contents[i : i + 1000])
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def postgres_raw(url: str, n: int, *, encode: bool = False) -> float:
    """COPY of rows already encoded; with ``encode``, the encoding of the final records is timed too."""
    records = final_records(n, "e" if encode else "r")
    rows = None if encode else encode_rows(records, "postgresql")
    return n / postgres_copy(url, lambda: rows or encode_rows(records, "postgresql"))


def postgres_copy(url: str, rows: Callable[[], Rows]) -> float:
    """Seconds to COPY ``rows()`` (called inside the timing) and commit."""
    call_cols, content_cols = columns("postgresql")
    with psycopg.connect(url) as con:
        gc.collect()
        start = time.perf_counter()
        calls, contents = rows()
        with con.cursor() as cur:
            with cur.copy(f"COPY llm_calls ({', '.join(call_cols)}) FROM STDIN") as copy:
                for row in calls:
                    copy.write_row(row)
            with cur.copy(f"COPY llm_call_content ({', '.join(content_cols)}) FROM STDIN") as copy:
                for row in contents:
                    copy.write_row(row)
        con.commit()
        return time.perf_counter() - start


def seed_rate(connect: Callable[[], Any], placeholder: str, n: int) -> float:
    dialect = "sqlite" if placeholder == "?" else "postgresql"
    calls, _ = encode_rows(final_records(n, "s"), dialect)
    call_cols, _ = columns(dialect)
    sql = f"INSERT INTO llm_calls ({', '.join(call_cols)}) VALUES ({', '.join([placeholder] * len(call_cols))})"
    con = connect()
    gc.collect()
    start = time.perf_counter()
    for row in calls:
        con.execute(sql, row)
        con.commit()
    elapsed = time.perf_counter() - start
    con.close()
    return n / elapsed


def fresh_postgres(url: str) -> None:
    engine = sa.create_engine(config.normalize_database_url(url))
    with engine.begin() as c:
        c.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    Store(url).close()


Rates = dict[str, list[float]]


def interleaved(trials: int, methods: dict[str, Callable[[int], float]]) -> Rates:
    """Each method's rate in each of ``trials`` rounds; a round runs every method once, back to back, so a slow
    phase of the (shared) machine weighs on all of them alike."""
    rates: Rates = {name: [] for name in methods}
    for i in range(trials):
        for name, measure in methods.items():
            rates[name].append(measure(i))
    return rates


def ratio(rates: Rates, ours: str, theirs: str) -> str:
    """The median over rounds of ours/theirs (each measured in the same round), with its range."""
    ratios = [a / b for a, b in zip(rates[ours], rates[theirs], strict=True)]
    return f"{statistics.median(ratios):6.1%} [{min(ratios):.0%}..{max(ratios):.0%}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=10000)
    parser.add_argument("--trials", type=int, default=5, help="rounds of every method; medians are reported")
    parser.add_argument("--postgres", default=os.environ.get("OBS_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    n, trials = args.calls, args.trials
    results: dict[str, Rates] = {}
    with tempfile.TemporaryDirectory() as tmp:

        def lite(kind: str, i: int) -> str:
            path = str(Path(tmp) / f"{kind}-{i}.db")
            Store(f"sqlite:///{path}").close()
            return path

        results["sqlite"] = interleaved(trials, {
            "obs": lambda i: obs_rate(f"sqlite:///{lite('obs', i)}", n, Path(tmp) / f"spool{i}"),
            "raw": lambda i: sqlite_raw(lite("raw", i), n),
            "encoded": lambda i: sqlite_raw(lite("enc", i), n, encode=True),
        })  # fmt: skip
        results["sqlite"]["seed"] = [seed_rate(lambda: sqlite3.connect(lite("seed", 0)), "?", min(n, 2000))]
        if args.postgres:
            pg = args.postgres.replace("postgresql+psycopg://", "postgresql://")

            def fresh(measure: Callable[[], float]) -> float:
                fresh_postgres(pg)
                return measure()

            results["postgresql"] = interleaved(trials, {
                "obs": lambda i: fresh(lambda: obs_rate(pg, n, Path(tmp) / f"pgspool{i}")),
                "raw": lambda i: fresh(lambda: postgres_raw(pg, n)),
                "encoded": lambda i: fresh(lambda: postgres_raw(pg, n, encode=True)),
            })  # fmt: skip
            seed = fresh(lambda: seed_rate(lambda: psycopg.connect(pg), "%s", min(n, 2000)))
            results["postgresql"]["seed"] = [seed]
    print(f"{n} calls a run, ~3 KB prompt and ~3 KB response each; {trials} rounds of every method, back to back:")
    print("median rate, and the median [range] over the rounds of obs's rate over the other's in the same round")
    for dialect, rates in results.items():
        ours, raw, encoded = (statistics.median(rates[k]) for k in ("obs", "raw", "encoded"))
        seed = rates["seed"][0]
        print(f"{dialect}")
        print(f"  obs, wrapped call to committed row      {ours:8,.0f} calls/s")
        print(f"  raw insert of pre-encoded rows          {raw:8,.0f} rows/s    obs/raw {ratio(rates, 'obs', 'raw')}")
        print(f"  raw insert, JSON/time encoding included {encoded:8,.0f} rows/s    obs/raw "
              f"{ratio(rates, 'obs', 'encoded')}")  # fmt: skip
        print(f"  seed pattern, one INSERT+commit a call  {seed:8,.0f} rows/s   seed/raw {seed / raw:6.1%}")


if __name__ == "__main__":
    main()

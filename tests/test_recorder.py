"""The recorder's guarantees: never slows or breaks the app, never loses a record, bounded exit."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from openai.types.chat import ChatCompletion
from sqlalchemy.engine import make_url

import obs
from obs import config
from obs.capture.events import CallEvent
from obs.records import Span
from obs.store.store import Store
from tests import fake_openai
from tests.fake_openai import FakeOpenAI, clients
from tests.tcp_proxy import Proxy

MESSAGES = [{"role": "user", "content": "hello"}]


@pytest.fixture(autouse=True)
def _reset_recorder() -> Iterator[None]:
    yield
    obs.configure(None)


def _count(url: str) -> int:
    engine = sa.create_engine(config.normalize_database_url(url))
    try:
        with engine.connect() as connection:
            return int(connection.execute(sa.text("SELECT COUNT(*) FROM llm_calls")).scalar_one())
    except sa.exc.OperationalError:  # the store is still creating its tables (a fresh file is migrated first)
        return -1
    finally:
        engine.dispose()


def _wait_for(check: Callable[[], bool], seconds: float = 90) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


def _calls(n: int) -> None:
    client = obs.wrap(clients(FakeOpenAI())[0])
    for i in range(n):
        client.chat.completions.create(model="gpt-5-mini", messages=[{"role": "user", "content": f"q{i}"}])


def test_postgres_outage_loses_nothing_and_writes_each_call_once(postgres_url: str, tmp_path: Path) -> None:
    url = make_url(config.normalize_database_url(postgres_url))
    proxy = Proxy((url.host or "127.0.0.1", url.port or 5432))
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    proxy.up()
    Store(proxied).close()  # the schema exists; then the database goes away
    proxy.down()
    obs.configure(proxied, spool_dir=tmp_path / "spool")
    started = time.monotonic()
    _calls(1000)  # every call returns normally
    app_seconds = time.monotonic() - started
    assert obs.flush(30)
    during = obs.stats()
    assert during.written == 0 and during.spooled == 1000 and during.dropped == 0
    proxy.up()
    assert _wait_for(lambda: obs.stats().replayed == 1000)
    assert _count(postgres_url) == 1000
    obs.configure(None)
    proxy.down()
    print(f"1000 calls with PostgreSQL down took {app_seconds:.2f} s on the app's thread")


def test_sqlite_outage_then_recovery_writes_exactly_every_call(tmp_path: Path) -> None:
    folder = tmp_path / "not-yet"
    url = f"sqlite:///{folder / 'obs.db'}"
    obs.configure(url, spool_dir=tmp_path / "spool")
    _calls(1000)
    assert obs.flush(30)
    assert obs.stats().spooled == 1000
    folder.mkdir()  # the database is reachable again
    assert _wait_for(lambda: obs.stats().replayed == 1000)
    assert _count(url) == 1000
    assert obs.stats().dropped == 0


def test_full_queue_spills_to_disk_and_nothing_is_lost(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config, "QUEUE_MAX", 5)
    obs.configure(sqlite_url, spool_dir=tmp_path / "spool")
    _calls(500)
    assert obs.flush(30)
    assert obs.stats().spooled > 0
    assert _wait_for(lambda: _count(sqlite_url) == 500)
    # A spool file's rows are committed before the replay counts them: wait for the counters too.
    assert _wait_for(lambda: obs.stats().written + obs.stats().replayed >= 500)
    assert obs.stats().dropped == 0


def test_an_app_that_never_pauses_still_gets_its_calls_written(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer waits for the app to pause before competing with it for the GIL, but not for ever."""
    monkeypatch.setattr(config, "WRITER_PATIENCE_S", 0.2)
    obs.configure(sqlite_url, spool_dir=tmp_path / "spool")
    client = obs.wrap(clients(FakeOpenAI())[0])
    deadline = time.monotonic() + 60
    made = 0
    while obs.stats().written == 0 and time.monotonic() < deadline:  # calls back to back, no pause
        client.chat.completions.create(model="gpt-5-mini", messages=MESSAGES)
        made += 1
    assert obs.stats().written > 0, f"nothing written during {made} back-to-back calls"
    assert obs.flush(30)
    # On a slow machine the queue can fill before the first write: the rest went to the spool, none is lost.
    after = obs.stats()
    assert after.dropped == 0 and after.written + after.spooled == made
    deadline = time.monotonic() + 30
    while obs.stats().replayed < after.spooled and time.monotonic() < deadline:
        obs.sdk.recorder().replay_spool()  # the writer replays it within a second too; whichever comes first
        time.sleep(0.05)
    assert _count(sqlite_url) == made


def test_flush_does_not_wait_for_the_app_to_pause(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from obs.recorder import queue as recorder

    # The app counts as busy for an hour after each call, and the writer would wait that long for a pause.
    monkeypatch.setattr(recorder, "APP_BUSY_S", 3600.0)
    monkeypatch.setattr(config, "WRITER_PATIENCE_S", 3600.0)
    obs.configure(sqlite_url, spool_dir=tmp_path / "spool")
    _calls(config.BATCH_MAX + 10)
    assert obs.stats().written == 0
    assert obs.flush(60)
    assert _count(sqlite_url) == config.BATCH_MAX + 10


def test_one_bad_record_does_not_block_its_batch(postgres_url: str, tmp_path: Path) -> None:
    obs.configure(postgres_url, spool_dir=tmp_path / "spool")
    with obs.trace("batch") as t:
        for _ in range(5):
            obs.wrap(clients(FakeOpenAI())[0]).chat.completions.create(model="gpt-5-mini", messages=MESSAGES)
        # PostgreSQL refuses a latency beyond INTEGER; the rest of the batch must still land.
        obs.sdk.recorder().enqueue(
            Span(id="bad0000000000001", trace_id=t.trace_id, name="bogus", start_ts=datetime.now(UTC),
                 latency_ms=2**40)
        )  # fmt: skip
    assert obs.flush(30)
    trace = Store(postgres_url).get_trace(t.trace_id)
    assert trace is not None and len(trace.calls) == 5 and [s.name for s in trace.spans] == ["batch"]
    assert (obs.stats().rejected, obs.stats().dropped) == (1, 0)
    assert list((tmp_path / "spool" / "rejected").glob("*.jsonl*"))


def test_text_no_database_takes_is_stored_with_a_marker_and_blocks_nothing(db_url: str, tmp_path: Path) -> None:
    """A lone surrogate (not UTF-8) or a NUL in a plain text field: PostgreSQL's COPY text cannot be made, SQLite
    cannot bind it. The record is stored with U+FFFD in their place; the rest of its batch lands."""
    obs.configure(db_url, spool_dir=tmp_path / "spool")
    with obs.trace("batch") as t:
        for _ in range(3):
            obs.wrap(clients(FakeOpenAI())[0]).chat.completions.create(model="gpt-5-mini", messages=MESSAGES)
        obs.sdk.recorder().enqueue(
            Span(id="odd0000000000001", trace_id=t.trace_id, name="lone \ud800 and \x00", start_ts=datetime.now(UTC))
        )
    assert obs.flush(30)
    trace = Store(db_url).get_trace(t.trace_id)
    assert trace is not None and len(trace.calls) == 3
    assert sorted(s.name for s in trace.spans) == ["batch", "lone \ufffd and \ufffd"]
    assert (obs.stats().rejected, obs.stats().dropped) == (0, 0)
    request = {"model": "gpt-5-mini", "messages": MESSAGES}
    body = fake_openai.chat_completion(request)
    body["choices"][0]["message"]["content"] = "answer \ud800\x00"
    odd = CallEvent(kind="chat", call_id="odd_call", trace_id=t.trace_id, parent_id=None, ts=datetime.now(UTC),
                    start_ns=0, end_ns=1, request=request, response=ChatCompletion.model_validate(body))  # fmt: skip
    obs.sdk.recorder().enqueue(odd)
    assert obs.flush(30)
    stored = Store(db_url).get_call("odd_call")
    assert stored is not None and stored.content is not None
    assert stored.content.output_text == "answer \ufffd\ufffd"
    assert (obs.stats().rejected, obs.stats().dropped) == (0, 0)


def _worker(url: str, spool: str, threads: int, calls: int) -> None:
    import threading

    obs.configure(url, spool_dir=spool)
    client = obs.wrap(clients(FakeOpenAI())[0])
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for i in range(calls):
                client.chat.completions.create(model="gpt-5-mini", messages=[{"role": "user", "content": str(i)}])
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=run) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert obs.flush(120)
    if errors or obs.stats().dropped:
        raise SystemExit(f"errors {errors[:3]} stats {obs.stats()}")


def test_four_processes_of_four_threads_share_one_sqlite_file(sqlite_url: str, tmp_path: Path) -> None:
    Store(sqlite_url).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(sqlite_url, str(tmp_path / "spool"), 4, 500)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert _wait_for(lambda: _count(sqlite_url) == 8000, 60)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_worker_records_its_own_calls(sqlite_url: str, tmp_path: Path) -> None:
    obs.configure(sqlite_url, spool_dir=tmp_path / "spool")
    _calls(10)
    assert obs.flush(10)
    pid = os.fork()
    if pid == 0:  # the child: a gunicorn-style worker
        try:
            _calls(25)
            os._exit(0 if obs.flush(30) and obs.stats().written == 25 else 3)
        except BaseException:
            os._exit(4)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    _calls(5)
    assert obs.flush(10)
    assert _count(sqlite_url) == 40


EXIT_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import obs
    from tests.fake_openai import FakeOpenAI, clients
    obs.configure(sys.argv[1], spool_dir=sys.argv[2])
    client = obs.wrap(clients(FakeOpenAI())[0])
    for i in range(300):
        client.chat.completions.create(model="gpt-5-mini", messages=[{"role": "user", "content": str(i)}])
    print(time.monotonic(), flush=True)
    """
)


def test_exit_with_the_database_down_is_bounded_and_the_next_start_writes_the_spool(tmp_path: Path) -> None:
    folder = tmp_path / "db-later"
    url = f"sqlite:///{folder / 'obs.db'}"
    spool = tmp_path / "spool"
    env = {**os.environ, "OBS_EXIT_TIMEOUT": "2", "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.run(
        [sys.executable, "-c", EXIT_SCRIPT, url, str(spool)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    exited = time.monotonic()
    assert proc.returncode == 0, proc.stderr
    exit_seconds = exited - float(proc.stdout.strip())
    # Bounded: the 2 s budget plus interpreter teardown, not a hang on the database (generous for shared CI).
    assert exit_seconds < 30, exit_seconds
    assert list(spool.glob("*.jsonl")), "the spool stays on disk"
    folder.mkdir()
    obs.configure(url, spool_dir=spool)
    obs.wrap(clients(FakeOpenAI())[0])  # the next start replays the spool without any new call
    assert _wait_for(lambda: _count(url) == 300 if (folder / "obs.db").exists() else False)
    print(f"exit with the database down took {exit_seconds:.2f} s (budget 2 s)")


def test_spool_replay_command_writes_the_spool_once(tmp_path: Path, sqlite_url: str) -> None:
    folder = tmp_path / "later"
    obs.configure(f"sqlite:///{folder / 'obs.db'}", spool_dir=tmp_path / "spool")
    _calls(50)
    assert obs.flush(10)
    obs.configure(None)
    cmd = [str(Path(sys.executable).parent / "obs"), "spool", "replay", "--database-url", sqlite_url,
           "--spool-dir", str(tmp_path / "spool")]  # fmt: skip
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0 and "replayed 50 records from 1 spool files" in first.stdout, first.stderr
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert "replayed 0 records" in again.stdout
    assert _count(sqlite_url) == 50


def test_disabled_obs_records_nothing_and_the_app_still_works(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OBS_ENABLED", "0")
    obs.configure(sqlite_url, spool_dir=tmp_path / "spool")
    client = obs.wrap(clients(FakeOpenAI())[0])
    assert client.chat.completions.create(model="gpt-5-mini", messages=MESSAGES).choices
    assert obs.stats().enqueued == 0

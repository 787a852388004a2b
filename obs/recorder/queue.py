"""The recorder: a bounded in-memory queue and a writer thread that never slows or breaks the app.

The caller's thread only appends an event to a deque (no lock, no I/O). The writer thread drains it in batches,
turns call events into records (pricing, refusal flag, serialization), and writes each batch in one transaction.
When the database fails, the queue is full, or the process exits before the writer caught up, records go to
the on-disk spool and are written once the database is back. Nothing is dropped unless the disk itself fails.
"""

from __future__ import annotations

import atexit
import collections
import concurrent.futures
import contextlib
import dataclasses
import functools
import logging
import os
import queue
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from obs import config
from obs.capture.build import build_call
from obs.capture.events import CallEvent
from obs.pricing.prices import Pricer, default_pricer
from obs.privacy.policy import Policies
from obs.recorder.privacy import PrivacyStep
from obs.recorder.spool import Record, Spool
from obs.records import CallContent, Feedback, LLMCall, Span
from obs.store import db, rows
from obs.store.store import Store

log = logging.getLogger("obs")

Event = CallEvent | Span | Feedback

#: How long the writer runs Python code before it lets other threads take the GIL.
YIELD_EVERY_S = 0.0002
#: The app counts as busy (and the writer yields to it) this long after its last recorded call.
APP_BUSY_S = 0.005
#: Events in the first batch of each drain of the queue (later ones double, up to config.BATCH_MAX).
FIRST_BATCH = 100
#: How often the spool is looked at for records to write again (after an outage, or left by an earlier run).
REPLAY_CHECK_S = 1.0
#: How long the writer waits for the store to say which feature a feedback's call belongs to (then: fallbacks).
FEATURE_LOOKUP_S = 2.0

#: Errors meaning "the database is not there right now": spool and retry later.
_OUTAGE = (sa.exc.OperationalError, sa.exc.InterfaceError, db.StoreError, OSError)


@dataclass(frozen=True, slots=True)
class RecorderStats:
    """Counters since the recorder started; ``dropped`` stays 0 unless the spool's disk fails."""

    enqueued: int
    written: int
    spooled: int
    replayed: int
    dropped: int
    rejected: int
    queue_depth: int
    spool_files: int


class Recorder:
    """One per process (re-created in a forked child). Thread-safe; every public method is non-raising."""

    def __init__(
        self,
        database_url: str | None = None,
        *,
        spool_dir: Any = None,
        pricer: Pricer | None = None,
        refusal_patterns: Iterable[str] | None = None,
        privacy: Policies | None = None,
    ) -> None:
        self.database_url = database_url or config.database_url()
        #: What is stored per feature: ``privacy`` when given, else the policy file (OBS_PRIVACY_FILE).
        self.privacy = PrivacyStep(privacy)
        self.spool = Spool(Path(spool_dir) if spool_dir else config.spool_dir_for(self.database_url))
        self._pricer = pricer
        self.refusal_patterns = tuple(refusal_patterns or config.REFUSAL_PATTERNS)
        self._setup_process_state()
        _live.add(self)

    def _setup_process_state(self) -> None:
        self._queue: collections.deque[Event] = collections.deque()
        self._wake = threading.Event()
        self._idle = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._store: Store | None = None
        self._inflight: dict[int, list[Event]] = {}
        self._db_busy = False
        self._codecs_cache: rows.Codecs | None = None
        self._jobs: queue.Queue[Callable[[], None]] = queue.Queue(maxsize=1)
        self._retry_at = 0.0
        self._backoff = config.BACKOFF_MIN_S
        self._last_replay_check = 0.0
        self._counts = collections.Counter[str]()
        self._count_lock = threading.Lock()
        self._enqueued = 0
        self._last_enqueue = 0.0
        self._flushing = 0  # flush() calls waiting: the writer then works at once
        self._done = 0  # events written, spooled or given up on; flush waits for it to catch up

    # --- the caller's side -------------------------------------------------------------------------

    def enqueue(self, event: Event) -> None:
        """Hand an event to the writer: an append and a counter; spools instead when the queue is full."""
        try:
            if self._pid != os.getpid() or self._thread is None:
                self._start()
            with self._count_lock:
                self._enqueued += 1
            self._last_enqueue = time.perf_counter()
            if len(self._queue) >= config.QUEUE_MAX:
                self._spool_events([event])  # backpressure goes to disk, never to the app
                self._add("done", 1)
                return
            self._queue.append(event)
            depth = len(self._queue)
            # The first event after the writer emptied the queue wakes it (it then waits for the app to pause),
            # then one per batch, not per call: a writer waiting for the app to pause must stay asleep.
            if depth == 1 or depth % config.BATCH_MAX == 0 or depth >= config.QUEUE_MAX // 2:
                self._wake.set()
        except Exception:  # pragma: no cover - the last line of defence for guarantee 1
            log.exception("obs: could not record an event")

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything enqueued so far is written or spooled; True if done within ``timeout``."""
        deadline = time.monotonic() + max(0.0, timeout)
        try:
            if self._thread is None or not self._thread.is_alive():
                return self._spool_leftovers()
            target = self._enqueued
            self._add("flushing", 1)
            try:
                with self._idle:
                    while self._done < target:
                        self._wake.set()
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            return False
                        self._idle.wait(min(remaining, 0.05))
            finally:
                self._add("flushing", -1)
            return True
        except Exception:  # pragma: no cover
            log.exception("obs: flush failed")
            return False

    def stats(self) -> RecorderStats:
        """Counters: enqueued, written, spooled, replayed, dropped, rejected, queue depth, spool files."""
        with self._count_lock:  # the writer threads update them
            c = self._counts.copy()
        try:
            files = len(list(self.spool.directory.glob("*.jsonl*")))
        except OSError:
            files = 0
        return RecorderStats(
            enqueued=self._enqueued,
            written=c["written"],
            spooled=c["spooled"],
            replayed=c["replayed"],
            dropped=c["dropped"],
            rejected=c["rejected"],
            queue_depth=len(self._queue),
            spool_files=files,
        )

    def shutdown(self, timeout: float | None = None) -> None:
        """Flush within ``timeout`` (OBS_EXIT_TIMEOUT by default), then spool whatever is left and stop."""
        budget = config.exit_timeout() if timeout is None else timeout
        started = time.monotonic()
        try:
            # Keep a slice of the budget to spool what the writer could not finish.
            self.flush(max(0.0, budget * 0.8))
            self._stop = True
            self._wake.set()
            self._spool_leftovers()
            self.spool.seal()
            if self._thread is not None:
                self._thread.join(max(0.0, budget - (time.monotonic() - started)))
            if self._thread is not None and not self._thread.is_alive():
                # The DB thread ends after the jobs queued before this one (no idle thread per old recorder).
                threading.Thread(target=self._jobs.put, args=(_STOP_DB,), daemon=True).start()
        except Exception:  # pragma: no cover
            log.exception("obs: shutdown failed")

    def start_if_spooled(self) -> None:
        """Start the writer now when an earlier run left records in the spool, so they get written."""
        try:
            if self._thread is None and self.spool.pending():
                self._start()
        except Exception:  # pragma: no cover
            log.exception("obs: could not start the writer")

    def replay_spool(self) -> tuple[int, int]:
        """Write every sealed spool file to the store now; returns (records, files). Raises if the store is down."""
        records = files = 0
        for count in self.spool.replay(self._write_to_store):
            records += count
            files += 1
            self._add("replayed", count)
        return records, files

    # --- the writer thread -------------------------------------------------------------------------

    def _start(self) -> None:
        if self._pid != os.getpid():  # forked child: the parent's thread, queue and connections are not ours
            self._setup_process_state()
            self.spool.after_fork()
        with _start_lock:
            if self._thread is None:
                # Two stages: "obs-writer" turns events into rows while "obs-db" writes the previous batch
                # (database drivers release the GIL), so processing and I/O overlap.
                threading.Thread(target=self._run_db, name="obs-db", daemon=True).start()
                self._thread = threading.Thread(target=self._run, name="obs-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            # Woken by the first event after an empty queue, each full batch and flush; the timeout is only for
            # what has no event: retrying the spool after an outage. An idle or busy app is not woken for nothing
            # (each wake-up takes the GIL from it, and may move it to a cold core).
            self._wake.wait(REPLAY_CHECK_S)
            self._wake.clear()
            try:
                self._wait_for_a_pause()
                self._drain()
                if time.monotonic() - self._last_replay_check >= REPLAY_CHECK_S:
                    self._jobs.put(self._maybe_replay)
            except Exception:  # pragma: no cover - never let the writer die
                log.exception("obs: writer error")
            if self._stop and not self._queue:
                return

    def _wait_for_a_pause(self) -> None:
        """While the app records calls back to back, wait (up to WRITER_PATIENCE_S) until it pauses.

        A real app's calls wait on the network, and the writer works in those pauses at no cost to it. An app
        that runs Python without a pause would otherwise share the interpreter lock (GIL) with the writer on
        every call; deferring keeps its calls as fast as without obs for a second, and the work is done then,
        or at the next pause, or at once when the queue is half full, ``flush`` is waiting or the recorder stops.
        """
        deadline = time.perf_counter() + config.WRITER_PATIENCE_S
        while (
            self._queue
            and not self._stop
            and not self._flushing
            and len(self._queue) < config.QUEUE_MAX // 2
            and time.perf_counter() - self._last_enqueue < APP_BUSY_S
            and time.perf_counter() < deadline
        ):
            # Seldom: each wake-up takes the GIL from the app (and may move it to a cold core).
            self._wake.wait(config.FLUSH_INTERVAL_S)
            self._wake.clear()

    def _run_db(self) -> None:
        while True:
            job = self._jobs.get()
            if job is _STOP_DB:
                return
            try:
                job()
            except Exception:  # pragma: no cover - never let the writer die
                log.exception("obs: writer error")
            with self._idle:
                self._idle.notify_all()

    def _drain(self) -> None:
        # The first batches are small, so the database thread starts writing while the next ones are prepared
        # (a queue of 10,000 waited ~80 ms for the first 1,000 to be prepared); then they double up to BATCH_MAX.
        size = FIRST_BATCH
        while self._queue:
            batch: list[Event] = []
            limit, size = size, min(size * 2, config.BATCH_MAX)
            while self._queue and len(batch) < limit:
                batch.append(self._queue.popleft())
            key = id(batch)
            self._inflight[key] = batch
            records, encoded = self._prepare(batch)
            # Waits while the previous batch is being written: bounded memory, and the queue absorbs bursts.
            self._jobs.put(functools.partial(self._write_batch_job, key, records, encoded))

    def _write_batch_job(self, key: int, records: list[Record], encoded: rows.EncodedBatch | None) -> None:
        batch = self._inflight.get(key, ())
        self._db_busy = True
        try:
            self._write(records, encoded)
        finally:
            self._db_busy = False
            self._inflight.pop(key, None)
            self._add("done", len(batch))

    def _to_records(self, events: list[Event]) -> list[Record]:
        """Records to spool from the caller's thread or at exit: no analyzer there (see PrivacyStep.apply)."""
        return self._prepare(events, encode=False, analyze=False)[0]

    def _prepare(
        self, events: list[Event], encode: bool = True, analyze: bool = True
    ) -> tuple[list[Record], rows.EncodedBatch | None]:
        """Records for the events and, when possible, their driver rows (encoded here, off the DB thread)."""
        codecs = self._codecs() if encode else None
        if self.privacy.policies().is_noop:  # the common case: one pass, each record encoded as it is built
            return self._build(events, codecs)
        # Privacy policies apply to the whole batch at once (one spaCy pass), before anything is encoded or spooled.
        lookup = self._features_of if analyze else None  # not from the caller's thread, nor at exit
        records = self.privacy.apply(self._build(events, None)[0], analyze=analyze, lookup=lookup)
        encoded = rows.EncodedBatch() if codecs is not None else None
        if encoded is not None and codecs is not None:
            try:
                for record in records:
                    encoded.add(record, codecs)
            except Exception:  # the write path finds and sets aside the record that cannot be stored
                encoded = None
        return records, self._finished(encoded, codecs)

    def _features_of(
        self, call_ids: list[str], trace_ids: list[str]
    ) -> tuple[dict[str, str | None], dict[str, set[str | None]]]:
        """The features of stored calls and traces that feedback is about, read on the database thread: after the
        batch it is writing (so a call written just before is found), never while the database is known down."""
        if time.monotonic() < self._retry_at:
            raise ConnectionError("the database is unavailable")
        answer: concurrent.futures.Future[tuple[dict[str, str | None], dict[str, set[str | None]]]]
        answer = concurrent.futures.Future()

        def job() -> None:
            if not answer.set_running_or_notify_cancel():
                return  # the writer stopped waiting
            try:
                if self._store is None:
                    self._store = Store(self.database_url)
                answer.set_result(self._store.features_of(call_ids, trace_ids))
            except Exception as exc:
                answer.set_exception(exc)

        self._jobs.put(job, timeout=FEATURE_LOOKUP_S)
        try:
            return answer.result(timeout=FEATURE_LOOKUP_S)
        finally:
            answer.cancel()

    @staticmethod
    def _finished(encoded: rows.EncodedBatch | None, codecs: rows.Codecs | None) -> rows.EncodedBatch | None:
        """The batch made ready for its write (``Codecs.finish``); None when that fails, for the write path to
        encode the records again and set aside the one that cannot be stored."""
        if encoded is None or codecs is None:
            return None
        try:
            codecs.finish(encoded)
        except Exception:
            return None
        return encoded

    def _build(self, events: list[Event], codecs: rows.Codecs | None) -> tuple[list[Record], rows.EncodedBatch | None]:
        records: list[Record] = []
        encoded = rows.EncodedBatch() if codecs is not None else None
        yielded = time.perf_counter()
        for event in events:
            try:
                record = self._record(event)
            except Exception as exc:  # a capture obs cannot make sense of is still kept
                log.warning("obs: could not process a record (%s); storing it with a marker", exc)
                record = _marker_record(event, exc)
            records.append(record)
            if encoded is not None and codecs is not None:
                try:
                    encoded.add(record, codecs)
                except Exception:  # the write path finds and sets aside the record that cannot be stored
                    encoded = None
            # While the app is making calls, or the DB thread is writing (its driver needs the GIL between
            # rows), give the GIL back often: the other thread then waits ~YIELD_EVERY_S, not a whole switch
            # interval (5 ms). Otherwise run at full speed.
            now = time.perf_counter()
            if now - yielded > YIELD_EVERY_S and (self._db_busy or now - self._last_enqueue < APP_BUSY_S):
                time.sleep(0)
                yielded = time.perf_counter()
        return records, self._finished(encoded, codecs)

    def _codecs(self) -> rows.Codecs | None:
        if self._codecs_cache is None:
            try:
                self._codecs_cache = rows.Codecs(db.dialect_of(self.database_url))
            except Exception:
                return None
        return self._codecs_cache

    def _record(self, event: Event) -> Record:
        if isinstance(event, CallEvent):
            return build_call(event, self.pricer, self.refusal_patterns)
        return event  # spans and feedback are stored as they are (JSON encoding copes with any value)

    @property
    def pricer(self) -> Pricer:
        if self._pricer is None:
            try:
                self._pricer = default_pricer()
            except Exception as exc:
                log.error("obs: %s; pricing with genai-prices only", exc)
                self._pricer = Pricer()
        return self._pricer

    def _write(self, records: list[Record], encoded: rows.EncodedBatch | None = None) -> None:
        if time.monotonic() < self._retry_at:
            self._spool(records)
            return
        try:
            self._write_to_store(records, encoded)
        except _OUTAGE as exc:
            self._outage(exc)
            self._spool(records)
        except Exception:
            self._write_one_by_one(records)
        else:
            self._backoff = config.BACKOFF_MIN_S
            self._add("written", len(records))

    def _write_to_store(self, records: list[Record], encoded: rows.EncodedBatch | None = None) -> None:
        if self._store is None:
            self._store = Store(self.database_url)
        if encoded is not None:
            self._store.write_encoded(encoded)
            return
        calls = [r for r in records if isinstance(r, LLMCall)]
        spans = [r for r in records if isinstance(r, Span)]
        feedback = [r for r in records if isinstance(r, Feedback)]
        self._store.write_batch(calls, spans, feedback)

    def _write_one_by_one(self, records: list[Record]) -> None:
        """One bad record must not block or lose the rest of its batch."""
        for record in records:
            try:
                self._write_to_store([record])
                self._add("written", 1)
                continue
            except _OUTAGE as exc:
                self._outage(exc)
                self._spool([record])
                continue
            except Exception as exc:
                bad = exc
            try:  # its text made storable (a lone surrogate or NUL replaced), else without its content
                self._write_to_store([_clean_text_fields(record)])
                self._add("written", 1)
                continue
            except Exception:
                pass
            try:
                self._write_to_store([_strip_content(record, bad)])
                self._add("written", 1)
            except Exception:
                log.error("obs: a record was refused by the database (%s); kept in %s", bad, self.spool.directory)
                self._add("rejected", 1)
                self._spool([record], rejected=True)

    def _outage(self, exc: BaseException) -> None:
        log.warning("obs: database unavailable (%s); spooling to %s", _one_line(exc), self.spool.directory)
        self._retry_at = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, config.BACKOFF_MAX_S)
        if self._store is not None:
            with contextlib.suppress(Exception):
                self._store.engine.dispose()

    def _maybe_replay(self) -> None:
        now = time.monotonic()
        if now < self._retry_at or now - self._last_replay_check < REPLAY_CHECK_S:
            return
        self._last_replay_check = now
        try:
            if not self.spool.pending() and not self._spool_has_own_part():
                return
            for count in self.spool.replay(self._write_to_store):
                self._add("replayed", count)
        except _OUTAGE as exc:
            self._outage(exc)
        except Exception:
            log.exception("obs: spool replay failed")

    def _spool_has_own_part(self) -> bool:
        part = self.spool._part
        return part is not None and part.exists()

    # --- the spool -----------------------------------------------------------------------------------

    def _spool(self, records: list[Record], *, rejected: bool = False) -> None:
        target = self.spool if not rejected else Spool(self.spool.directory / "rejected")
        try:
            target.append(records)
            if not rejected:
                self._add("spooled", len(records))
        except Exception:
            log.exception("obs: could not write %d records to the spool", len(records))
            self._add("dropped", len(records))

    def _spool_events(self, events: list[Event]) -> None:
        self._spool(self._to_records(events))

    def _spool_leftovers(self) -> bool:
        """At exit: whatever is still queued or in flight goes to disk (a record stored twice is skipped)."""
        leftovers = [event for batch in list(self._inflight.values()) for event in batch]
        while self._queue:
            try:
                leftovers.append(self._queue.popleft())
            except IndexError:
                break
        if leftovers:
            self._spool_events(leftovers)
            self._add("done", len(leftovers))
        return True

    def _add(self, name: str, n: int) -> None:
        with self._count_lock:
            if name == "done":
                self._done += n
            elif name == "flushing":
                self._flushing += n
            else:
                self._counts[name] += n


def _marker_record(event: Event, exc: Exception) -> Record:
    if isinstance(event, CallEvent):
        return LLMCall(
            id=event.call_id,
            trace_id=event.trace_id,
            parent_id=event.parent_id,
            ts=event.ts,
            model=str(event.request.get("model") or "unknown"),
            provider=event.provider,
            status="error" if event.error else "ok",
            error=f"obs could not process this call: {exc}",
            error_type="ObsProcessingError",
            content=CallContent(response={"__obs__": "unprocessable", "error": str(exc)}),
        )
    if isinstance(event, Span):
        return replace(event, input={"__obs__": "unprocessable"}, output=None, metadata=None)
    return event


def _clean_text_fields(record: Any) -> Any:
    """The record (and a call's content) with its text fields storable in any database (``rows.clean_str``)."""
    changes: dict[str, Any] = {
        f.name: rows.clean_str(value)
        for f in dataclasses.fields(record)
        if isinstance(value := getattr(record, f.name), str) and rows.clean_str(value) != value
    }
    if isinstance(record, LLMCall) and record.content is not None:
        changes["content"] = _clean_text_fields(record.content)
    return replace(record, **changes) if changes else record


def _strip_content(record: Record, exc: Exception) -> Record:
    marker = {"__obs__": "refused_by_database", "error": _one_line(exc)[:500]}
    if isinstance(record, LLMCall):
        return replace(record, content=CallContent(response=marker), error=record.error and record.error[:2000])
    if isinstance(record, Span):
        return replace(record, input=marker, output=None, metadata=None)
    return record


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _STOP_DB() -> None:
    """Sentinel job: the DB thread stops when it reaches it."""


_start_lock = threading.Lock()
_live: weakref.WeakSet[Recorder] = weakref.WeakSet()


@atexit.register
def _exit_hook() -> None:
    """Bounded exit: each live recorder flushes within OBS_EXIT_TIMEOUT, the rest is spooled."""
    for recorder in list(_live):
        if recorder._thread is not None and recorder._pid == os.getpid():
            recorder.shutdown()

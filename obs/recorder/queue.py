"""The recorder: a bounded in-memory queue and a writer thread that never slows or breaks the app.

The caller's thread only appends an event to a deque (no lock, no I/O). The writer thread drains it in batches,
turns call events into records (pricing, refusal flag, serialization), and writes each batch in one transaction.
When the database fails, the queue is full, or the process exits before the writer caught up, records go to
the on-disk spool and are written once the database is back. Nothing is dropped unless the disk itself fails.

This module owns the public face (``Recorder``, ``RecorderStats``), the queue, the two threads and the counters.
What a batch goes through is the writer's (``obs.recorder.writer``: records, privacy, encoding, the store); what
happens while the database is down is recovery's (``obs.recorder.recovery``: the outage clock and the spool).
"""

from __future__ import annotations

import atexit
import collections
import functools
import logging
import os
import queue
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from obs import config
from obs.pricing.prices import Pricer
from obs.privacy.policy import Policies
from obs.recorder.privacy import PrivacyStep
from obs.recorder.recovery import REPLAY_CHECK_S, Recovery
from obs.recorder.spool import Record, Spool
from obs.recorder.writer import Event, Writer
from obs.store import rows

log = logging.getLogger("obs")

#: The app counts as busy (and the writer yields to it) this long after its last recorded call.
APP_BUSY_S = 0.005
#: Events in the first batch of each drain of the queue (later ones double, up to config.BATCH_MAX).
FIRST_BATCH = 100


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
        url = database_url or config.database_url()
        privacy_step = PrivacyStep(privacy)
        spool = Spool(Path(spool_dir) if spool_dir else config.spool_dir_for(url))
        # The counters live apart so that the writer and recovery, which add to them, hold no reference back to
        # the recorder: it stays free of reference cycles (freed, with its connections, as soon as it is dropped).
        self._counters = _Counters()
        self._recovery = Recovery(spool, self._counters.add)
        self._writer = Writer(url, privacy=privacy_step, pricer=pricer,
                              refusal_patterns=tuple(refusal_patterns or config.REFUSAL_PATTERNS),
                              recovery=self._recovery, count=self._counters.add)  # fmt: skip
        self._setup_process_state()
        _live.add(self)

    @property
    def database_url(self) -> str:
        """The store the writer writes to."""
        return self._writer.database_url

    @property
    def spool(self) -> Spool:
        """Where records wait while the database cannot take them (recovery's)."""
        return self._recovery.spool

    @property
    def privacy(self) -> PrivacyStep:
        """What is stored per feature: ``privacy`` when given, else the policy file (OBS_PRIVACY_FILE)."""
        return self._writer.privacy

    @property
    def refusal_patterns(self) -> tuple[str, ...]:
        """What marks a response as a refusal (the writer flags the calls)."""
        return self._writer.refusal_patterns

    @property
    def pricer(self) -> Pricer:
        """What the writer prices calls with (loaded on first use)."""
        return self._writer.pricer

    def _setup_process_state(self) -> None:
        self._queue: collections.deque[Event] = collections.deque()
        self._wake = threading.Event()
        self._idle = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._inflight: dict[int, list[Event]] = {}
        self._db_busy = False
        self._jobs: queue.Queue[Callable[[], None]] = queue.Queue(maxsize=1)
        self._count_lock = threading.Lock()  # for the three below (the outcome counters have their own)
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
        c = self._counters.snapshot()
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
                # Its connections close now, not while the interpreter exits: an embedded database (chdb) that
                # is torn down under a live connection crashes the process.
                self._writer.disconnect()
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
        return self._recovery.replay(self._writer.to_store)

    # --- the writer thread -------------------------------------------------------------------------

    def _start(self) -> None:
        if self._pid != os.getpid():  # forked child: the parent's thread, queue and connections are not ours
            self._setup_process_state()
            self._counters.after_fork()
            self._recovery.after_fork()
            self._writer.after_fork()
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
                if self._recovery.replay_due():
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
            records, encoded = self._writer.prepare(batch, self._others_busy, self._jobs)
            # Waits while the previous batch is being written: bounded memory, and the queue absorbs bursts.
            self._jobs.put(functools.partial(self._write_batch_job, key, records, encoded))

    def _write_batch_job(self, key: int, records: list[Record], encoded: rows.EncodedBatch | None) -> None:
        batch = self._inflight.get(key, ())
        self._db_busy = True
        try:
            self._writer.write(records, encoded)
        finally:
            self._db_busy = False
            self._inflight.pop(key, None)
            self._add("done", len(batch))

    def _maybe_replay(self) -> None:
        self._recovery.maybe_replay(self._writer.to_store, self._writer.disconnect)

    def _others_busy(self, now: float) -> bool:
        """True while the app is making calls or the DB thread is writing: the writer then yields the GIL often."""
        return self._db_busy or now - self._last_enqueue < APP_BUSY_S

    # --- what is left behind -------------------------------------------------------------------------

    def _spool_events(self, events: list[Event]) -> None:
        self._recovery.spool_records(self._writer.to_records(events, self._others_busy))

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
        """Adds to ``done`` (events written, spooled or given up on) or ``flushing`` (flush calls waiting)."""
        with self._count_lock:
            if name == "done":
                self._done += n
            else:
                self._flushing += n


class _Counters:
    """The outcome counters (written, spooled, replayed, dropped, rejected): the writer and recovery add to them."""

    def __init__(self) -> None:
        self.after_fork()

    def after_fork(self) -> None:
        """A forked child counts from zero (and never waits on a lock a parent's thread held)."""
        self._lock = threading.Lock()
        self._counts = collections.Counter[str]()

    def add(self, name: str, n: int) -> None:
        with self._lock:  # the writer's threads, the caller's (queue full) and the exit hook add to them
            self._counts[name] += n

    def snapshot(self) -> collections.Counter[str]:
        with self._lock:
            return self._counts.copy()


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

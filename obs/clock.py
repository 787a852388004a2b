"""Where recorded times come from: the real clock, or a virtual one for backfilling past traffic.

Every timestamp and duration obs records (calls, spans, feedback) is read here, so an import or the demo can
record calls "in the past" through the normal recorder path (``obs.backfill`` in the SDK).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class Clock:
    """The real clock: wall time in UTC and a monotonic nanosecond counter for durations."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def perf_ns(self) -> int:
        return time.perf_counter_ns()


class VirtualClock(Clock):
    """A clock that stands still until advanced: ``advance`` is how a simulated provider spends time."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("VirtualClock needs a timezone-aware start")
        self._start = start
        self._elapsed_ns = 0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._start + timedelta(microseconds=self._elapsed_ns // 1000)

    def perf_ns(self) -> int:
        return self._elapsed_ns

    def advance(self, ms: float) -> None:
        with self._lock:
            self._elapsed_ns += int(ms * 1_000_000)

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (forward only, so durations stay positive)."""
        with self._lock:
            target = int((when - self._start).total_seconds() * 1e9)
            self._elapsed_ns = max(self._elapsed_ns, target)


REAL = Clock()
current: Clock = REAL


def use(clock: Clock | None) -> None:
    """Make ``clock`` the source of recorded times (None: the real clock)."""
    global current
    current = clock or REAL


def now() -> datetime:
    return current.now()


def perf_ns() -> int:
    return current.perf_ns()

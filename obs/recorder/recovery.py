"""Recovery: what the recorder does while the database is not there, and once it is back.

``Recovery`` owns the outage clock (when to try the database again, backing off exponentially) and puts records
on the on-disk spool (``obs.recorder.spool``, the file format) meanwhile; it replays the spool once writes can
succeed again. It writes through callables it is given (the writer's), and counts through the recorder's
counters: it knows neither the writer nor the queue.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from obs import config
from obs.recorder.spool import Record, Spool
from obs.store import db

log = logging.getLogger("obs")

#: How often the spool is looked at for records to write again (after an outage, or left by an earlier run).
REPLAY_CHECK_S = 1.0

#: Errors meaning "the database is not there right now": spool and retry later.
OUTAGE = (sa.exc.OperationalError, sa.exc.InterfaceError, db.StoreError, OSError)

#: Writes records to the store (raising when it cannot): the writer's ``to_store``.
Write = Callable[[list[Record]], Any]
#: Adds to one of the recorder's counters (``spooled``, ``dropped``, ``replayed``, ...).
Count = Callable[[str, int], None]


class Recovery:
    """The outage clock and the spool. Survives a fork (``after_fork``), like the spool it writes to."""

    def __init__(self, spool: Spool, count: Count) -> None:
        self.spool = spool
        self._count = count
        self._reset()

    def _reset(self) -> None:
        self._retry_at = 0.0
        self._backoff = config.BACKOFF_MIN_S
        self._last_replay_check = 0.0

    def after_fork(self) -> None:
        """A forked child starts with the database presumed up and writes spool files of its own."""
        self._reset()
        self.spool.after_fork()

    def down(self) -> bool:
        """True while backing off after an outage: the database is not tried before then."""
        return time.monotonic() < self._retry_at

    def outage(self, exc: BaseException, disconnect: Callable[[], None]) -> None:
        """The database failed: back off before trying it again, and drop its connections (``disconnect``)."""
        log.warning("obs: database unavailable (%s); spooling to %s", one_line(exc), self.spool.directory)
        self._retry_at = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, config.BACKOFF_MAX_S)
        disconnect()

    def recovered(self) -> None:
        """A write succeeded: the next outage backs off from the shortest wait again."""
        self._backoff = config.BACKOFF_MIN_S

    def replay_due(self) -> bool:
        """True when the spool was last looked at REPLAY_CHECK_S ago or longer."""
        return time.monotonic() - self._last_replay_check >= REPLAY_CHECK_S

    def maybe_replay(self, write: Write, disconnect: Callable[[], None]) -> None:
        """Replay the spool through ``write`` when it is due and the database is not known down; never raises."""
        now = time.monotonic()
        if now < self._retry_at or now - self._last_replay_check < REPLAY_CHECK_S:
            return
        self._last_replay_check = now
        try:
            if not self.spool.pending() and not self.spool.has_own_part():
                return
            for count in self.spool.replay(write):
                self._count("replayed", count)
        except OUTAGE as exc:
            self.outage(exc, disconnect)
        except Exception:
            log.exception("obs: spool replay failed")

    def replay(self, write: Write) -> tuple[int, int]:
        """Replay every sealed spool file through ``write`` now; returns (records, files). Raises if it does."""
        records = files = 0
        for count in self.spool.replay(write):
            records += count
            files += 1
            self._count("replayed", count)
        return records, files

    def spool_records(self, records: list[Record], *, rejected: bool = False) -> None:
        """Append records to the spool (``rejected``: to its ``rejected/`` folder, not replayed); never raises."""
        target = self.spool if not rejected else Spool(self.spool.directory / "rejected")
        try:
            target.append(records)
            if not rejected:
                self._count("spooled", len(records))
        except Exception:
            log.exception("obs: could not write %d records to the spool", len(records))
            self._count("dropped", len(records))


def one_line(exc: BaseException) -> str:
    """The first line of an error's message (the driver's own, when SQLAlchemy wraps one)."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__

"""The writer: events become records, records become encoded batches, batches go to the store.

``Writer`` owns the store connection (opened on first use, dropped after an outage), the driver codecs, the
pricer (loaded on first use), the refusal patterns and the privacy step. A call event is priced and flagged
(``build_call``); a capture it cannot make sense of is still kept, with a marker. The privacy policies apply to the
whole batch, rows are encoded off the database thread, and each batch is written in one transaction; a batch the
database refuses is written one record at a time, so one bad record costs only itself. When the database is down,
records go to ``Recovery``. Which thread runs what is the queue's business (``obs.recorder.queue``).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import functools
import logging
import queue
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from obs.capture.build import build_call
from obs.capture.events import CallEvent
from obs.pricing.prices import Pricer, default_pricer
from obs.privacy.feedback import Found, Lookup
from obs.recorder.privacy import PrivacyStep
from obs.recorder.recovery import OUTAGE, Count, Recovery, one_line
from obs.recorder.spool import Record
from obs.records import CallContent, Feedback, LLMCall, Span
from obs.store import db, rows
from obs.store.store import Store

log = logging.getLogger("obs")

Event = CallEvent | Span | Feedback
#: True while another thread wants the interpreter lock (given ``time.perf_counter()``): the writer then yields.
Busy = Callable[[float], bool]

#: How long the writer runs Python code before it lets other threads take the GIL.
YIELD_EVERY_S = 0.0002
#: How long the writer waits for the store to say which feature a feedback's call belongs to (then: fallbacks).
FEATURE_LOOKUP_S = 2.0


class Writer:
    """Events to records to the store. Survives a fork (``after_fork``); counts ``written`` and ``rejected``."""

    def __init__(
        self,
        database_url: str,
        *,
        privacy: PrivacyStep,
        pricer: Pricer | None,
        refusal_patterns: tuple[str, ...],
        recovery: Recovery,
        count: Count,
    ) -> None:
        self.database_url = database_url
        self.privacy = privacy
        self.refusal_patterns = refusal_patterns
        self._pricer = pricer
        self._recovery = recovery
        self._count = count
        self._reset()

    def _reset(self) -> None:
        self._store: Store | None = None
        self._codecs_cache: rows.Codecs | None = None

    def after_fork(self) -> None:
        """A forked child opens connections of its own: the parent's are not used (nor closed) here."""
        self._reset()

    @property
    def pricer(self) -> Pricer:
        """What calls are priced with: genai-prices with the OBS_PRICES_FILE overrides (loaded on first use)."""
        if self._pricer is None:
            try:
                self._pricer = default_pricer()
            except Exception as exc:
                log.error("obs: %s; pricing with genai-prices only", exc)
                self._pricer = Pricer()
        return self._pricer

    # --- events to records ---------------------------------------------------------------------------

    def prepare(
        self, events: list[Event], others_busy: Busy, db_jobs: queue.Queue[Callable[[], None]]
    ) -> tuple[list[Record], rows.EncodedBatch | None]:
        """In the writer thread: the records for a batch and, when possible, their driver rows (encoded here, off
        the DB thread). What feedback is about is read from the store by a job on the DB thread (``db_jobs``)."""
        return self._prepare(events, others_busy, functools.partial(self._features_of, db_jobs))

    def to_records(self, events: list[Event], others_busy: Busy) -> list[Record]:
        """Records to spool from the caller's thread or at exit: no analyzer there (see PrivacyStep.apply)."""
        # Nor a lookup of what feedback is about: not from the caller's thread, nor at exit.
        return self._prepare(events, others_busy, None, encode=False, analyze=False)[0]

    def _prepare(
        self, events: list[Event], others_busy: Busy, lookup: Lookup | None, encode: bool = True, analyze: bool = True
    ) -> tuple[list[Record], rows.EncodedBatch | None]:
        codecs = self._codecs() if encode else None
        if self.privacy.policies().is_noop:  # the common case: one pass, each record encoded as it is built
            return self._build(events, codecs, others_busy)
        # Privacy policies apply to the whole batch at once (one spaCy pass), before anything is encoded or spooled.
        records = self.privacy.apply(self._build(events, None, others_busy)[0], analyze=analyze, lookup=lookup)
        encoded = rows.EncodedBatch() if codecs is not None else None
        if encoded is not None and codecs is not None:
            try:
                for record in records:
                    encoded.add(record, codecs)
            except Exception:  # the write path finds and sets aside the record that cannot be stored
                encoded = None
        return records, _finished(encoded, codecs)

    def _features_of(
        self, db_jobs: queue.Queue[Callable[[], None]], call_ids: list[str], trace_ids: list[str]
    ) -> Found:
        """The features of stored calls and traces that feedback is about, read on the database thread: after the
        batch it is writing (so a call written just before is found), never while the database is known down."""
        if self._recovery.down():
            raise ConnectionError("the database is unavailable")
        answer: concurrent.futures.Future[Found] = concurrent.futures.Future()

        def job() -> None:
            if not answer.set_running_or_notify_cancel():
                return  # the writer stopped waiting
            try:
                answer.set_result(self._connected().features_of(call_ids, trace_ids))
            except Exception as exc:
                answer.set_exception(exc)

        db_jobs.put(job, timeout=FEATURE_LOOKUP_S)
        try:
            return answer.result(timeout=FEATURE_LOOKUP_S)
        finally:
            answer.cancel()

    def _build(
        self, events: list[Event], codecs: rows.Codecs | None, others_busy: Busy
    ) -> tuple[list[Record], rows.EncodedBatch | None]:
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
            if now - yielded > YIELD_EVERY_S and others_busy(now):
                time.sleep(0)
                yielded = time.perf_counter()
        return records, _finished(encoded, codecs)

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

    # --- records to the store --------------------------------------------------------------------------

    def write(self, records: list[Record], encoded: rows.EncodedBatch | None = None) -> None:
        """Store a batch; spooled while the database is down, written one by one when it refuses the batch."""
        if self._recovery.down():
            self._recovery.spool_records(records)
            return
        try:
            self.to_store(records, encoded)
        except OUTAGE as exc:
            self._recovery.outage(exc, self.disconnect)
            self._recovery.spool_records(records)
        except Exception:
            self._write_one_by_one(records)
        else:
            self._recovery.recovered()
            self._count("written", len(records))

    def to_store(self, records: list[Record], encoded: rows.EncodedBatch | None = None) -> None:
        """Write records (their encoded rows, when given) in one transaction; raises what the store raises."""
        store = self._connected()
        if encoded is not None:
            store.write_encoded(encoded)
            return
        calls = [r for r in records if isinstance(r, LLMCall)]
        spans = [r for r in records if isinstance(r, Span)]
        feedback = [r for r in records if isinstance(r, Feedback)]
        store.write_batch(calls, spans, feedback)

    def disconnect(self) -> None:
        """Drop the store's pooled connections (after an outage, so that the next try connects afresh)."""
        if self._store is not None:
            with contextlib.suppress(Exception):
                self._store.engine.dispose()

    def _connected(self) -> Store:
        if self._store is None:
            self._store = Store(self.database_url)
        return self._store

    def _write_one_by_one(self, records: list[Record]) -> None:
        """One bad record must not block or lose the rest of its batch."""
        for record in records:
            try:
                self.to_store([record])
                self._count("written", 1)
                continue
            except OUTAGE as exc:
                self._recovery.outage(exc, self.disconnect)
                self._recovery.spool_records([record])
                continue
            except Exception as exc:
                bad = exc
            try:  # its text made storable (a lone surrogate or NUL replaced), else without its content
                self.to_store([_clean_text_fields(record)])
                self._count("written", 1)
                continue
            except Exception:
                pass
            try:
                self.to_store([_strip_content(record, bad)])
                self._count("written", 1)
            except Exception:
                where = self._recovery.spool.directory
                log.error("obs: a record was refused by the database (%s); kept in %s", bad, where)
                self._count("rejected", 1)
                self._recovery.spool_records([record], rejected=True)


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
    marker = {"__obs__": "refused_by_database", "error": one_line(exc)[:500]}
    if isinstance(record, LLMCall):
        return replace(record, content=CallContent(response=marker), error=record.error and record.error[:2000])
    if isinstance(record, Span):
        return replace(record, input=marker, output=None, metadata=None)
    return record

"""Which privacy policy a feedback comment is stored under: the policy of the call (or trace) it is about.

A comment is what a user wrote, so it is treated like call content: kept under ``full``, redacted under
``redact``, not stored (NULL; the thumbs value and score still are) under ``metadata_only``. The feature whose
policy applies is the first one found of:

1. the call the feedback names (``call_id``): in the same batch, among the calls this process recorded recently,
   or in the store;
2. the trace it names (``trace_id``), when the call is not found: its calls and spans, looked for the same way;
   when they belong to several features, the strictest of their policies applies;
3. the trace context ``obs.feedback`` was called in;
4. otherwise none: the default policy.

Under ``sample`` a comment is kept exactly when its call's content is (the same stable draw on the call id;
redacted too with ``sample_redact``); feedback on a trace without a call has no draw to follow and is treated
as unsampled: no comment. Pure code but for the ``lookup`` the writer passes in (the store).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any, Literal

from obs.privacy.policy import Policies, Policy, sampled
from obs.records import Feedback, LLMCall, Span

log = logging.getLogger("obs")

Fate = Literal["keep", "redact", "drop"]
#: Features of stored calls (call id -> feature) and traces (trace id -> features of its calls and spans).
Found = tuple[dict[str, str | None], dict[str, set[str | None]]]
#: Looks up the features of calls and traces in the store (may raise: the database may be down).
Lookup = Callable[[list[str], list[str]], Found]

#: Calls and traces remembered per process, so feedback on a call recorded moments ago needs no database read.
RECENT_MAX = 50_000
_RANK: dict[Fate, int] = {"keep": 0, "redact": 1, "drop": 2}


def comment_fate(policy: Policy, item: Feedback) -> Fate:
    """What happens to a feedback comment under ``policy``: kept as is, redacted, or not stored."""
    if policy.mode == "full":
        return "keep"
    if policy.mode == "redact":
        return "redact"
    if policy.mode == "sample" and item.call_id is not None and sampled(item.call_id, policy.sample_rate):
        return "redact" if policy.sample_redact else "keep"
    return "drop"


class Subjects:
    """The features of the calls and traces feedback is about, remembered across batches (thread-safe)."""

    def __init__(self, capacity: int = RECENT_MAX) -> None:
        self._capacity = capacity
        self._calls: dict[str, str | None] = {}
        self._traces: dict[str, set[str | None]] = {}
        self._lock = threading.Lock()

    def resolve(self, records: Sequence[Any], policies: Policies, lookup: Lookup | None = None) -> list[Any]:
        """The records with each commented feedback's ``feature`` set to its subject's (see the module doc)."""
        with self._lock:
            self._remember(records)
            waiting = [r for r in records if isinstance(r, Feedback) and r.comment is not None]
            unknown = [f for f in waiting if self._feature(f, policies) is _UNKNOWN]
        if unknown and lookup is not None:
            calls = sorted({f.call_id for f in unknown if f.call_id})
            traces = sorted({f.trace_id for f in unknown if f.trace_id})
            try:
                found_calls, found_traces = lookup(calls, traces)
            except Exception as exc:  # the database is down or slow: the fallbacks decide
                log.info("obs: could not look up the calls feedback is about (%s)", exc)
            else:
                with self._lock:
                    self._add_calls(found_calls.items())
                    for trace_id, features in found_traces.items():
                        self._add_trace(trace_id, features)
        if not waiting:
            return list(records)
        out = list(records)
        with self._lock:
            for i, record in enumerate(out):
                if isinstance(record, Feedback) and record.comment is not None:
                    feature = self._feature(record, policies)
                    if feature is not _UNKNOWN and feature != record.feature:
                        out[i] = replace(record, feature=feature)
        return out

    def _feature(self, item: Feedback, policies: Policies) -> Any:
        if item.call_id is not None and item.call_id in self._calls:
            return self._calls[item.call_id]
        features = self._traces.get(item.trace_id) if item.trace_id is not None else None
        if features:
            return max(sorted(features, key=str), key=lambda f: _RANK[comment_fate(policies.for_feature(f), item)])
        return _UNKNOWN

    def _remember(self, records: Iterable[Any]) -> None:
        for record in records:
            if isinstance(record, LLMCall):
                self._add_calls([(record.id, record.feature)])
                self._add_trace(record.trace_id, {record.feature})
            elif isinstance(record, Span):
                self._add_trace(record.trace_id, {record.feature})

    def _add_calls(self, items: Iterable[tuple[str, str | None]]) -> None:
        for call_id, feature in items:
            self._calls[call_id] = feature
            if len(self._calls) > self._capacity:
                del self._calls[next(iter(self._calls))]

    def _add_trace(self, trace_id: str, features: Iterable[str | None]) -> None:
        known = self._traces.get(trace_id)
        if known is None:
            known = self._traces[trace_id] = set()
            if len(self._traces) > self._capacity:
                del self._traces[next(iter(self._traces))]
        known.update(features)


#: A feedback whose subject is not known yet (``None`` is a known subject without a feature).
_UNKNOWN: Any = object()

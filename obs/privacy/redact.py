"""Applying a policy to records: pure code over a ``find`` function (the analyzer, or a fake in a test).

Redaction covers everything that carries what a user or the model said: the system prompt, every message (text
parts and tool-call arguments), the response, the tool calls and the output text, span input and output, and
feedback comments (under the policy of the call they are about, ``obs.privacy.feedback``). Strings are collected
across a whole batch first, analyzed in one pass (so spaCy sees them as a batch), then written back.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson

from obs.privacy.feedback import comment_fate
from obs.privacy.policy import Policies, Policy, hash_user_id, sampled
from obs.records import CallContent, Feedback, LLMCall, Span
from obs.serialize import RawJson


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of PII the analyzer found in a text."""

    entity: str
    start: int
    end: int
    score: float


#: Analyze texts for the entities of a policy: one list of findings per text, in order.
Find = Callable[[Sequence[str], Policy], list[list[Finding]]]

#: Keys whose string values are structure (ids, roles, model names), never what somebody said.
_STRUCTURAL_KEYS = frozenset({
    "id", "object", "model", "role", "type", "finish_reason", "system_fingerprint", "tool_call_id", "created",
    "service_tier", "status", "index", "logprobs", "call_id",
})  # fmt: skip
#: Strings shorter than this cannot hold any entity the analyzer knows.
_MIN_TEXT = 4
#: The content fields that are redacted (``tools`` are the app's own function definitions, not user data).
_REDACTED_FIELDS = ("system_prompt", "messages", "response", "tool_calls", "output_text")


def resolve(findings: Iterable[Finding]) -> list[Finding]:
    """Non-overlapping findings in text order: where two overlap, the higher score (then the longer) wins."""
    kept: list[Finding] = []
    for f in sorted(findings, key=lambda f: (-f.score, -(f.end - f.start), f.start)):
        if all(f.end <= k.start or f.start >= k.end for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: f.start)


def anonymize(text: str, findings: Iterable[Finding], operator: str, key: bytes = b"") -> str:
    """``text`` with each finding replaced: ``<ENTITY>``, masked with ``*``, or ``<ENTITY:keyed-hash>``."""
    out: list[str] = []
    position = 0
    for f in resolve(findings):
        out.append(text[position : f.start])
        value = text[f.start : f.end]
        if operator == "mask":
            out.append("*" * len(value))
        elif operator == "hash":
            out.append(f"<{f.entity}:{hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:12]}>")
        else:
            out.append(f"<{f.entity}>")
        position = f.end
    out.append(text[position:])
    return "".join(out)


def texts_of(value: Any, key: str | None = None) -> Iterable[str]:
    """Every string inside a content value that may hold what somebody said."""
    if isinstance(value, RawJson):  # a provider's response, kept as its JSON text: look inside it
        yield from texts_of(orjson.loads(str(value)), key)
    elif isinstance(value, str):
        if key not in _STRUCTURAL_KEYS and len(value) >= _MIN_TEXT:
            yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from texts_of(v, k)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from texts_of(item, key)


def rewrite(value: Any, replacements: dict[str, str], key: str | None = None) -> Any:
    """``value`` with every string found in ``replacements`` swapped for its redacted text."""
    if isinstance(value, RawJson):
        return rewrite(orjson.loads(str(value)), replacements, key)
    if isinstance(value, str):
        return value if key in _STRUCTURAL_KEYS else replacements.get(value, value)
    if isinstance(value, dict):
        return {k: rewrite(v, replacements, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rewrite(item, replacements, key) for item in value]
    return value


def content_texts(content: CallContent) -> list[str]:
    """The distinct texts of a call's content that redaction looks at."""
    seen: dict[str, None] = {}
    for name in _REDACTED_FIELDS:
        for text in texts_of(getattr(content, name)):
            seen.setdefault(text)
    return list(seen)


def redact_content(content: CallContent, replacements: dict[str, str]) -> CallContent:
    return replace(content, **{name: rewrite(getattr(content, name), replacements) for name in _REDACTED_FIELDS})


def apply(records: Sequence[Any], policies: Policies, find: Find, key: bytes = b"") -> list[Any]:
    """The records as they may be stored under ``policies``: content kept, redacted, sampled or dropped, user
    ids hashed when asked, feedback comments kept, redacted or dropped (under their ``feature``'s policy, set by
    ``Subjects.resolve``). Records redacted under one policy are analyzed together (one batch through the model)."""
    out = list(records)
    pending: dict[Policy, list[int]] = {}
    for i, record in enumerate(out):
        if isinstance(record, LLMCall):
            policy = policies.for_feature(record.feature)
            out[i] = _shape(record, policy, policies.hash_user_ids, key)
            if out[i].content is not None and policy.redacts and out[i].content_state == "full":
                pending.setdefault(policy, []).append(i)
        elif isinstance(record, Span):
            policy = policies.for_feature(record.feature)
            out[i] = span = _shape_span(record, policy, policies.hash_user_ids, key)
            if policy.redacts and (span.input is not None or span.output is not None):
                pending.setdefault(policy, []).append(i)
        elif isinstance(record, Feedback) and record.comment is not None:
            policy = policies.for_feature(record.feature)
            fate = comment_fate(policy, record)
            if fate == "drop":
                out[i] = replace(record, comment=None)
            elif fate == "redact":
                pending.setdefault(policy, []).append(i)
    for policy, indexes in pending.items():
        texts: dict[str, None] = {}
        for i in indexes:
            for text in _record_texts(out[i]):
                texts.setdefault(text)
        ordered = list(texts)
        found = find(ordered, policy)
        replacements = {
            text: anonymize(text, hits, policy.operator, key) for text, hits in zip(ordered, found, strict=True) if hits
        }
        for i in indexes:
            out[i] = _redacted(out[i], replacements)
    return out


def _shape(call: LLMCall, policy: Policy, hash_users: bool, key: bytes) -> LLMCall:
    """Everything but the redaction itself: the policy label, the content state, dropped content, hashed user."""
    user_id = hash_user_id(call.user_id, key) if hash_users and call.user_id else call.user_id
    keep = call.content is not None and (
        policy.mode in ("full", "redact") or (policy.mode == "sample" and sampled(call.id, policy.sample_rate))
    )
    state = call.content_state if keep else "metadata_only"
    return replace(call, user_id=user_id, privacy_policy=policy.label, content_state=state,
                   content=call.content if keep else None)  # fmt: skip


def _shape_span(span: Span, policy: Policy, hash_users: bool, key: bytes) -> Span:
    user_id = hash_user_id(span.user_id, key) if hash_users and span.user_id else span.user_id
    keep = policy.mode in ("full", "redact") or (policy.mode == "sample" and sampled(span.id, policy.sample_rate))
    if keep:
        return replace(span, user_id=user_id)
    return replace(span, user_id=user_id, input=None, output=None)


def _record_texts(record: Any) -> list[str]:
    if isinstance(record, LLMCall):
        return content_texts(record.content) if record.content is not None else []
    if isinstance(record, Feedback):
        return list(texts_of(record.comment))
    return [*texts_of(record.input), *texts_of(record.output)]


def _redacted(record: Any, replacements: dict[str, str]) -> Any:
    if isinstance(record, LLMCall):
        assert record.content is not None
        return replace(record, content=redact_content(record.content, replacements), content_state="redacted")
    if isinstance(record, Feedback):
        return replace(record, comment=rewrite(record.comment, replacements))
    return replace(record, input=rewrite(record.input, replacements), output=rewrite(record.output, replacements))

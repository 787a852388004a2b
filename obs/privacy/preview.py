"""The redaction preview: what the analyzer finds in a call (or a pasted text) and what would be stored, under
the policies in force and under an edited policy. Pure over a ``find`` function, like the writer's step."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from obs.privacy import redact
from obs.privacy.policy import Policies, Policy
from obs.privacy.redact import Find, Finding
from obs.records import CallContent, LLMCall


@dataclass(frozen=True, slots=True)
class TextPreview:
    """One text of a call: what was found in it, and its redacted form under each policy."""

    text: str
    findings: tuple[Finding, ...]
    current: str
    edited: str


@dataclass(frozen=True, slots=True)
class Preview:
    """A call seen through the policies: each text, and the stored record under the current policies."""

    feature: str | None
    current: Policy
    edited: Policy
    texts: tuple[TextPreview, ...]
    stored: dict[str, Any]


def pasted_call(text: str, feature: str | None) -> LLMCall:
    """A call carrying a pasted text as its user message (to preview what a feature's policy would store)."""
    return LLMCall(id="preview", trace_id="preview", ts=datetime.now(UTC), model="preview", feature=feature,
                   content=CallContent(messages=[{"role": "user", "content": text}]))  # fmt: skip


def preview(call: LLMCall, policies: Policies, edited: Policy, find: Find, key: bytes = b"") -> Preview:
    """Findings and redacted texts of ``call`` under its feature's policy and under ``edited``."""
    current = policies.for_feature(call.feature)
    texts = redact.content_texts(call.content) if call.content is not None else []
    # Findings are shown for the edited policy (what the operator is tuning); both columns use their own.
    shown = find(texts, _redacting(edited))
    under_current = find(texts, _redacting(current)) if current.redacts else [[] for _ in texts]
    items = tuple(
        TextPreview(
            text,
            tuple(sorted(f, key=lambda x: x.start)),
            redact.anonymize(text, c, current.operator, key) if current.redacts else text,
            redact.anonymize(text, f, edited.operator, key),
        )
        for text, f, c in zip(texts, shown, under_current, strict=True)
    )
    stored_call = redact.apply([call], policies, find, key)[0]
    return Preview(call.feature, current, edited, items, stored_view(stored_call))


def stored_view(call: LLMCall) -> dict[str, Any]:
    """The fields of a call that policies touch, as they would be stored."""
    content = None if call.content is None else {
        k: v for k, v in dataclasses.asdict(call.content).items() if v is not None
    }  # fmt: skip
    return {"content_state": call.content_state, "privacy_policy": call.privacy_policy, "user_id": call.user_id,
            "content": content}  # fmt: skip


def _redacting(policy: Policy) -> Policy:
    return policy if policy.redacts else dataclasses.replace(policy, mode="redact")

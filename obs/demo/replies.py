"""What the demo model answers: the pure reply logic of the demo provider (``obs.demo.provider`` serves it).

DEMO ONLY: it makes answers up from its input. The answer depends on the system prompt, the context in the
messages, the model and the temperature, so replaying a call with another prompt or model gives a visibly
different answer. Usage follows the text, latency follows the model (time to first token grows with the prompt),
and on purpose some calls fail (429, 500) or refuse. ``plan`` decides all of it for one request;
``obs.demo.wire`` makes the bodies the server sends for it. No I/O and no clock here.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
import re
from dataclasses import dataclass, field
from typing import Any

#: Numbers for the ids the demo provider makes up (tool calls here, responses in ``obs.demo.wire``).
ids = itertools.count(1)


@dataclass(frozen=True)
class ModelProfile:
    """How a demo model behaves: speed, verbosity, and its quirks."""

    ttft_ms: float
    prefill_ms_per_token: float
    ms_per_token: float
    sentences: int
    reasons: bool = False
    refuses_when_told: float = 0.0
    #: Reading a long prompt costs more than in proportion (ms per token, squared): a model slow on long contexts.
    prefill_ms_per_token2: float = 0.0


MODELS = {
    "gpt-5-mini": ModelProfile(ttft_ms=380, prefill_ms_per_token=0.05, ms_per_token=11, sentences=2, reasons=True),
    # Slow to read long prompts: its time to first token grows fast with the context.
    "gpt-4.1": ModelProfile(
        ttft_ms=300, prefill_ms_per_token=6.0, prefill_ms_per_token2=0.025, ms_per_token=8, sentences=3
    ),
    "claude-haiku-4-5": ModelProfile(
        ttft_ms=300, prefill_ms_per_token=0.08, ms_per_token=8, sentences=2, refuses_when_told=0.8
    ),
    "flowdesk-tuned-1": ModelProfile(ttft_ms=200, prefill_ms_per_token=0.03, ms_per_token=6, sentences=1),
}
DEFAULT_PROFILE = MODELS["gpt-5-mini"]

STOPWORDS = frozenset(
    "a an the and or of to in on for with is are be can i my me we our you your how do does what when why where "
    "it this that at from by as not no if so please thanks hi hello there get set use".split(" ")
)
REFUSAL = "I'm sorry, but I can't help with that request."
UNKNOWN = "I don't know: the help center does not cover that."


def tokens(text: str) -> int:
    """A token count that follows the text (about four characters a token)."""
    return max(1, math.ceil(len(text) / 4))


def words(text: str) -> list[str]:
    """Content words, crudely stemmed (plans -> plan, refunds -> refund)."""
    out = []
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        if word in STOPWORDS or len(word) < 3:
            continue
        for suffix in ("ing", "ed", "s"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
        out.append(word)
    return out


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


@dataclass
class Plan:
    """Everything the provider will answer for one request, decided before any byte is sent."""

    text: str | None
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    reasoning_tokens: int
    ttft_ms: float
    total_ms: float
    finish_reason: str = "stop"
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    error_status: int | None = None


def plan(body: dict[str, Any]) -> Plan:
    """The deterministic answer to a chat or responses request."""
    model = str(body.get("model", ""))
    profile = MODELS.get(model, DEFAULT_PROFILE)
    messages = _messages(body)
    system = " ".join(_text(m.get("content")) for m in messages if m.get("role") in {"system", "developer"})
    user = next((_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
    given_temperature = body.get("temperature")
    temperature = float(given_temperature) if isinstance(given_temperature, int | float) else 1.0
    turn = _this_turn(messages)
    seed_source = json.dumps([system, [m.get("content") for m in turn], model, round(temperature, 1)])
    digest = hashlib.sha256(seed_source.encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    roll = int.from_bytes(digest[8:10], "big") % 1000
    prompt_tokens = sum(tokens(_text(m.get("content"))) + 4 for m in messages) + tokens(
        json.dumps(body.get("tools") or "")
    )

    error = 429 if roll < 15 else 500 if roll < 22 else None
    tool_result = next((m for m in reversed(messages) if m.get("role") == "tool"), None)
    tool_calls: list[dict[str, Any]] = []
    finish = "stop"
    if body.get("tools") and tool_result is None:
        tool_calls = [_triage_call(body["tools"], user, rng)]
        text = None
        finish = "tool_calls"
    elif tool_result is not None:
        args = json.loads(_text(tool_result.get("content")) or "{}")
        text = f"Routed to the {args.get('team', 'support')} team with priority {args.get('priority', 'normal')}."
    elif profile.refuses_when_told and "refuse" in system.lower() and rng.random() < profile.refuses_when_told:
        text = REFUSAL
    else:
        text = _compose(system, user, turn, profile, temperature, rng)

    completion_tokens = tokens(text or json.dumps(tool_calls))
    reasoning = rng.randrange(64, 640, 64) if profile.reasons else 0
    completion_tokens += reasoning
    cached = (prompt_tokens // 2 // 128) * 128 if prompt_tokens >= 1024 and rng.random() < 0.6 else 0
    prefill = prompt_tokens * profile.prefill_ms_per_token + prompt_tokens**2 * profile.prefill_ms_per_token2
    ttft = profile.ttft_ms + prefill + reasoning * profile.ms_per_token * 0.5
    total = ttft + (completion_tokens - reasoning) * profile.ms_per_token
    jitter = 0.85 + rng.random() * 0.3
    return Plan(
        text=text,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cached_tokens=cached,
        reasoning_tokens=reasoning,
        ttft_ms=ttft * jitter,
        total_ms=total * jitter,
        finish_reason=finish,
        tool_calls=tool_calls,
        error_status=error,
    )


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The request's messages in chat terms, whichever API it came in: the Messages API keeps its system prompt
    apart and sends a tool's result as a block of a user message."""
    if "messages" in body:
        system = body.get("system")
        head = [{"role": "system", "content": system}] if system else []
        return [*head, *(_chat_message(m) for m in body["messages"] if isinstance(m, dict))]
    messages = [{"role": "system", "content": body["instructions"]}] if body.get("instructions") else []
    given = body.get("input")
    if isinstance(given, str):
        return [*messages, {"role": "user", "content": given}]
    return [*messages, *(m for m in given or [] if isinstance(m, dict))]


def _this_turn(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The system prompt and the messages from the last user message on, without the conversation's earlier turns:
    the history a chat resends costs tokens and time but does not change the answer to the question asked now."""
    last = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=0)
    head = [m for m in messages[:last] if m.get("role") in {"system", "developer"}]
    return [*head, *messages[last:]]


def _chat_message(message: dict[str, Any]) -> dict[str, Any]:
    content = message.get("content")
    if message.get("role") == "user" and isinstance(content, list):
        results = [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]
        if results:
            return {"role": "tool", "content": results[-1].get("content")}
    return message


def _compose(
    system: str,
    user: str,
    messages: list[dict[str, Any]],
    profile: ModelProfile,
    temperature: float,
    rng: random.Random,
) -> str:
    lowered = system.split("\n\n", 1)[0].lower()  # the instructions, not the context pasted below them
    if "rewrite" in lowered:  # query rewriting: keywords, ordered by the model's taste
        keys = list(dict.fromkeys(words(user)))
        if temperature > 0.5:
            rng.shuffle(keys)
        return " ".join(keys[: 4 + profile.sentences]) or user
    # What the answer can quote: the context pasted below the instructions and the user's text, not the instructions.
    _, labelled, pasted = system.partition("Context:")
    if not labelled:
        pasted = system.split("\n\n", 1)[1] if "\n\n" in system else ""
    context = " ".join([pasted, *(_text(m.get("content")) for m in messages if m.get("role") == "user")])
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", context) if len(s.split()) > 5]
    question = set(words(user))
    scored = sorted(
        ((len(question & set(words(s))), i, s) for i, s in enumerate(sentences) if s not in user),
        key=lambda t: (-t[0], t[1]),
    )
    needed = 2 if len(question) > 3 else 1
    relevant = [s for score, _, s in scored if score >= needed]
    if "summar" in lowered:
        picked = sentences[:: max(1, len(sentences) // (profile.sentences + 1))][: profile.sentences + 1]
        return "Summary: " + " ".join(picked) if picked else UNKNOWN
    if not relevant:
        return UNKNOWN
    pool = relevant[: profile.sentences + (3 if temperature > 0.7 else 0)]
    picked = rng.sample(pool, min(profile.sentences, len(pool))) if temperature > 0.7 else pool[: profile.sentences]
    body = "\n".join(f"- {s}" for s in picked) if "bullet" in lowered else " ".join(picked)
    if "friendly" in lowered:
        body = "Happy to help! " + body
    if profile is MODELS["gpt-4.1"]:
        body += " In short: " + picked[0].split(",")[0].rstrip(".") + "."
    return body


TEAMS = {"billing": ("invoice", "refund", "charge", "plan", "price"), "security": ("sso", "saml", "password", "login")}


def _triage_call(tools: list[dict[str, Any]], text: str, rng: random.Random) -> dict[str, Any]:
    name = tools[0].get("function", {}).get("name") or tools[0].get("name") or "route_ticket"
    lowered = text.lower()
    team = next((t for t, keys in TEAMS.items() if any(k in lowered for k in keys)), "support")
    urgent = any(k in lowered for k in ("down", "urgent", "outage", "cannot", "can't", "asap"))
    args = {"team": team, "priority": "urgent" if urgent else rng.choice(["normal", "low", "normal"])}
    return {
        "id": f"call_{next(ids):06d}",
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(args)},
    }

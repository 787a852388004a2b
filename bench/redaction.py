"""Redaction throughput: calls per second with ~2 KB of text each, through the analyzer and through the writer.

analyzer  -- ``redact.apply`` on N calls under a ``redact`` policy: every text through spaCy and the pattern
             recognizers; once with texts batched through ``nlp.pipe`` (what the writer does), once one
             ``nlp(text)`` per string, to show what batching buys;
writer    -- N wrapped-call events enqueued to a Recorder writing to a SQLite file under ``redact``, timed until
             flush() returns with every row committed; beside the same under ``full``.

  .venv/bin/python -m bench.redaction [--calls 300]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from openai.types.chat import ChatCompletion

from obs.capture.build import build_call
from obs.capture.events import CallEvent
from obs.pricing.prices import Pricer
from obs.privacy import redact
from obs.privacy.analyzer import Analyzer
from obs.privacy.policy import Policies, Policy
from obs.privacy.redact import Finding
from obs.recorder.queue import Recorder
from obs.serialize import snapshot

NAMES = ["Maria Garcia", "Jonathan Whitaker", "Aiko Tanaka", "Lukas Becker", "Priya Raman"]
SENTENCES = [
    "My order arrived damaged and I would like a replacement or a refund as soon as possible.",
    "The invoice for last month lists two seats we removed in March, please correct it.",
    "Our team cannot log in since the SSO certificate was rotated this morning.",
    "Could you explain how the automation rules decide which queue a ticket goes to?",
    "The export to CSV stops at ten thousand rows, is there a way to get the full report?",
    "We moved offices, please update the billing address on the account.",
]


def text(rng: random.Random, size: int) -> str:
    """About ``size`` characters of support-ticket prose with a little PII planted in it."""
    parts: list[str] = []
    while sum(len(p) + 1 for p in parts) < size:
        roll = rng.random()
        name = rng.choice(NAMES)
        if roll < 0.1:
            parts.append(
                f"Contact {name} at {name.split()[0].lower()}@example.com or +1 415-555-{rng.randrange(1000, 9999)}."
            )
        elif roll < 0.15:
            parts.append(f"The card ending 4111 1111 1111 1111 was charged, customer {name}.")
        else:
            parts.append(rng.choice(SENTENCES))
    return " ".join(parts)


def event(i: int, rng: random.Random) -> CallEvent:
    """A captured chat call with ~1 KB of prompt and ~1 KB of answer."""
    answer = text(rng, 900)
    body = {"id": f"chatcmpl-{i}", "object": "chat.completion", "created": 1_764_000_000, "model": "gpt-5-mini",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": answer}}],
            "usage": {"prompt_tokens": 300, "completion_tokens": 250, "total_tokens": 550}}  # fmt: skip
    messages = [
        {"role": "system", "content": "You answer support tickets."},
        {"role": "user", "content": text(rng, 900)},
    ]
    return CallEvent(kind="chat", call_id=f"r{i:08d}", trace_id=f"t{i:08d}", parent_id=None, ts=datetime.now(UTC),
                     start_ns=0, end_ns=800_000_000, request=snapshot({"model": "gpt-5-mini", "messages": messages}),
                     response=ChatCompletion.model_validate(body), attrs={"feature": "support"})  # fmt: skip


def analyzer_rate(analyzer: Analyzer, events: Sequence[CallEvent], batched: bool) -> float:
    calls = [build_call(e, Pricer(), ()) for e in events]
    policies = Policies(default=Policy(mode="redact"))

    def one_by_one(texts: Sequence[str], policy: Policy) -> list[list[Finding]]:
        return [analyzer.find([t], policy)[0] for t in texts]

    find = analyzer.find if batched else one_by_one
    started = time.perf_counter()
    out = redact.apply(calls, policies, find)
    elapsed = time.perf_counter() - started
    assert all(c.content_state == "redacted" for c in out)
    return len(calls) / elapsed


def writer_rate(events: Sequence[CallEvent], policies: Policies, folder: Path, name: str) -> float:
    recorder = Recorder(f"sqlite:///{folder / name}.db", spool_dir=folder / f"{name}-spool", privacy=policies)
    recorder.enqueue(replace(events[0], call_id="warmup"))  # schema, analyzer and pricer loaded before timing
    recorder.flush(120)
    started = time.perf_counter()
    for e in events:
        recorder.enqueue(e)
    assert recorder.flush(600)
    elapsed = time.perf_counter() - started
    recorder.shutdown(5)
    return len(events) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(1)
    events = [event(i, rng) for i in range(args.calls)]
    size = sum(len(t) for e in events[:50] for t in redact.content_texts(build_call(e, Pricer(), ()).content))  # type: ignore[arg-type]
    print(f"{args.calls} calls, ~{size / 50 / 1024:.1f} KB of distinct text each")
    started = time.perf_counter()
    analyzer = Analyzer()
    print(f"analyzer built in {time.perf_counter() - started:.1f} s ({analyzer.info.note})")
    analyzer_rate(analyzer, events[:20], True)  # warm up
    print(f"analyzer, texts batched through nlp.pipe: {analyzer_rate(analyzer, events, True):8.1f} calls/s")
    print(f"analyzer, one nlp() call per text:        {analyzer_rate(analyzer, events, False):8.1f} calls/s")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        full = writer_rate(events, Policies(), folder, "full")
        redacted = writer_rate(events, Policies(default=Policy(mode="redact")), folder, "redact")
    print(f"writer to SQLite, policy full:    {full:8.1f} calls/s")
    print(f"writer to SQLite, policy redact:  {redacted:8.1f} calls/s")


if __name__ == "__main__":
    main()

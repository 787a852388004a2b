"""Overhead of obs on the caller's thread, per call (a benchmark, not a test).

Three measurements, each against a baseline from the same run:
  A. the real openai client against an in-process fake HTTP transport, wrapped vs unwrapped;
  B. obs's hot path alone: the same wrapper around a method that returns a prebuilt ChatCompletion at once;
  C. the real anthropic client (messages.create) against an in-process fake HTTP transport, wrapped vs unwrapped.
Prompt and response are ~3 KB each. The writer thread runs and writes to a SQLite file during each timed block;
blocks of baseline and wrapped calls alternate, with an untimed flush after each wrapped block so the writer's
work never lands in a baseline block.

Each figure is the median over ``--runs`` fresh processes: the same code runs up to ~20 us faster or slower
from one process to the next (memory layout), so a single process proves little.

    .venv/bin/python -m bench.overhead [--runs 5] [--calls 5000] [--block 2500]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2
from anthropic import Anthropic
from openai import OpenAI
from openai.types.chat import ChatCompletion

import obs
from tests import fake_anthropic, fake_openai

PROMPT = [{"role": "system", "content": "You triage tickets. " * 10}, {"role": "user", "content": "x" * 2800}]


def response_body() -> dict[str, Any]:
    body = fake_openai.chat_completion({"model": "gpt-5-mini", "messages": PROMPT})
    body["choices"][0]["message"]["content"] = "y" * 3000
    return body


def fake_client() -> OpenAI:
    payload = json.dumps(response_body()).encode()

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=payload, headers={"content-type": "application/json"}, request=request)

    return OpenAI(api_key="sk-bench", base_url="http://fake/v1", max_retries=0,
                  http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))  # fmt: skip


def fake_anthropic_client() -> Anthropic:
    body = fake_anthropic.message({"model": "claude-haiku-4-5", "messages": PROMPT[1:]})
    body["content"][0]["text"] = "y" * 3000
    payload = json.dumps(body).encode()

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=payload, headers={"content-type": "application/json"}, request=request)

    return Anthropic(api_key="sk-ant-bench", base_url="http://fake", max_retries=0,
                     http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))  # fmt: skip


class Instant:
    """A client whose chat.completions.create returns a prebuilt response: only obs's own cost remains."""

    def __init__(self) -> None:
        completion = ChatCompletion.model_validate(response_body())

        class Completions:
            def create(self, **kwargs: Any) -> ChatCompletion:
                return completion

        class Chat:
            completions = Completions()

        self.chat = Chat()


def timed(call: Any, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        call()
        out.append((time.perf_counter_ns() - t0) / 1000)
    return out


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 10) - 1] if q < 100 else max(values)


Figures = dict[str, float]


def figures(base: list[float], wrapped: list[float]) -> Figures:
    b50, b99, w50, w99 = pct(base, 50), pct(base, 99), pct(wrapped, 50), pct(wrapped, 99)
    return {"b50": b50, "b99": b99, "w50": w50, "w99": w99, "o50": w50 - b50, "o99": w99 - b99}


def measure(calls: int, block: int, tmp: Path) -> dict[str, Figures]:
    """Both measurements in one process, in blocks: a baseline block, then a wrapped block (the writer thread
    runs during it), then an untimed flush, so the writer's work for one block never lands in a baseline."""
    obs.configure(f"sqlite:///{tmp / 'bench.db'}", spool_dir=tmp / "spool")
    plain, wrapped = fake_client(), obs.wrap(fake_client())
    instant, instant_wrapped = Instant(), obs.wrap(Instant())

    claude, claude_wrapped = fake_anthropic_client(), obs.wrap(fake_anthropic_client())

    def call(client: Any) -> Any:
        if isinstance(client, Anthropic):
            system = PROMPT[0]["content"]
            return lambda: client.messages.create(model="claude-haiku-4-5", max_tokens=1024, system=system,
                                                  messages=PROMPT[1:])  # fmt: skip
        return lambda: client.chat.completions.create(model="gpt-5-mini", messages=PROMPT)

    for c in (plain, wrapped, instant, instant_wrapped, claude, claude_wrapped):  # warm up imports, caches, writer
        timed(call(c), 200)
    assert obs.flush(120)
    pairs = {"A": (plain, wrapped), "B": (instant, instant_wrapped), "C": (claude, claude_wrapped)}
    samples: dict[str, tuple[list[float], list[float]]] = {key: ([], []) for key in pairs}
    for _ in range(max(1, calls // block)):
        for key, (baseline, with_obs) in pairs.items():
            samples[key][0].extend(timed(call(baseline), block))
            samples[key][1].extend(timed(call(with_obs), block))
            assert obs.flush(120)
    stats = obs.stats()
    assert stats.written == 600 + 3 * (calls // block * block) and stats.dropped == 0, stats
    obs.configure(None)
    return {key: figures(*sampled) for key, sampled in samples.items()}


NAMES = {
    "A": "A. real openai client, in-process fake HTTP transport",
    "B": "B. obs hot path alone (method returns a prebuilt response)",
    "C": "C. real anthropic client, in-process fake HTTP transport",
}


def summary(runs: list[dict[str, Figures]]) -> None:
    """Medians over the runs (each a fresh process: the same code runs faster or slower by up to ~20 us
    from one process to the next, so one process proves little), with the range of the overhead."""
    print(f"median of {len(runs)} runs, each a fresh process (range of the overhead over the runs in brackets)")
    for key, name in NAMES.items():
        med = {f: statistics.median(r[key][f] for r in runs) for f in runs[0][key]}
        lo50, hi50 = min(r[key]["o50"] for r in runs), max(r[key]["o50"] for r in runs)
        lo99, hi99 = min(r[key]["o99"] for r in runs), max(r[key]["o99"] for r in runs)
        print(f"{name}")
        print(f"  baseline  p50 {med['b50']:8.1f} us   p99 {med['b99']:8.1f} us")
        print(f"  with obs  p50 {med['w50']:8.1f} us   p99 {med['w99']:8.1f} us")
        print(f"  overhead  p50 {med['o50']:8.1f} us [{lo50:.0f}..{hi50:.0f}]   "
              f"p99 {med['o99']:8.1f} us [{lo99:.0f}..{hi99:.0f}]")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=5000, help="calls per side in each run")
    parser.add_argument("--block", type=int, default=2500, help="calls per timed block (the writer runs during it)")
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per writer mode")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a single run, JSON out
    args = parser.parse_args()
    if args.one:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(measure(args.calls, args.block, Path(tmp))))
        return
    runs = []
    for _ in range(args.runs):
        command = [sys.executable, "-m", "bench.overhead", "--one", "--calls", str(args.calls),
                   "--block", str(args.block)]  # fmt: skip
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    summary(runs)


if __name__ == "__main__":
    main()

"""Overhead of obs on the caller's thread, per call (a benchmark, not a test).

Two measurements, each against a baseline from the same run:
  A. the real openai client against an in-process fake HTTP transport, wrapped vs unwrapped;
  B. obs's hot path alone: the same wrapper around a method that returns a prebuilt ChatCompletion at once.
Prompt and response are ~3 KB each. The writer thread runs (and writes to a SQLite file) during the run.

    .venv/bin/python -m bench.overhead [--calls 5000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2
from openai import OpenAI
from openai.types.chat import ChatCompletion

import obs
from tests import fake_openai

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


def report(name: str, base: list[float], wrapped: list[float]) -> None:
    b50, b99, w50, w99 = pct(base, 50), pct(base, 99), pct(wrapped, 50), pct(wrapped, 99)
    print(f"{name}")
    print(f"  baseline  p50 {b50:9.1f} us   p99 {b99:9.1f} us")
    print(f"  with obs  p50 {w50:9.1f} us   p99 {w99:9.1f} us")
    print(f"  overhead  p50 {w50 - b50:9.1f} us   p99 {w99 - b99:9.1f} us   (ratio p50 {w50 / b50:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        obs.configure(f"sqlite:///{Path(tmp) / 'bench.db'}", spool_dir=Path(tmp) / "spool")
        plain, wrapped = fake_client(), obs.wrap(fake_client())
        instant, instant_wrapped = Instant(), obs.wrap(Instant())

        def call(client: Any) -> Any:
            return lambda: client.chat.completions.create(model="gpt-5-mini", messages=PROMPT)

        for c in (plain, wrapped, instant, instant_wrapped):  # warm up imports and caches
            timed(call(c), 200)
        base: list[float] = []
        with_obs: list[float] = []
        hot_base: list[float] = []
        hot: list[float] = []
        blocks = max(1, args.calls // 500)
        for _ in range(blocks):  # interleave blocks so background noise hits both sides alike
            base += timed(call(plain), 500)
            with_obs += timed(call(wrapped), 500)
            hot_base += timed(call(instant), 500)
            hot += timed(call(instant_wrapped), 500)
        assert obs.flush(120)
        stats = obs.stats()
        print(f"{len(base)} calls per side; recorded {stats.written} "
              f"(spooled {stats.spooled}, dropped {stats.dropped})")  # fmt: skip
        report("A. real openai client, in-process fake HTTP transport", base, with_obs)
        report("B. obs hot path alone (method returns a prebuilt response)", hot_base, hot)
        obs.configure(None)


if __name__ == "__main__":
    main()

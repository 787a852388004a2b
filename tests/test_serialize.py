"""Anything an app passes serializes: stored faithfully or with a clear marker, on both dialects."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import BaseModel

import obs
from obs.recorder.spool import Spool
from obs.recorder.spool import loads as spool_loads
from obs.records import Span
from obs.serialize import snapshot, to_jsonable
from obs.store.store import Store


class Ticket(BaseModel):
    id: int
    title: str


@dataclasses.dataclass
class Doc:
    name: str
    score: float


WEIRD = {
    "model": Ticket(id=1, title="printer"),
    "dataclass": Doc("manual", 0.5),
    "bytes": b"\x00\x01\xff",
    "when": datetime(2026, 11, 20, 12, tzinfo=UTC),
    "money": Decimal("0.10"),
    "nan": math.nan,
    "inf": math.inf,
    "nul": "before\x00after",
    "surrogate": "lone \ud800 surrogate",
    "image": {"type": "image_url", "image_url": {"url": "data:image/png;base64," + "A" * 2000}},
    "set": {3},
    "object": object(),
}


def test_to_jsonable_is_json_and_keeps_what_json_can_hold() -> None:
    out = to_jsonable(WEIRD)
    text = json.dumps(out, allow_nan=False)
    text.encode("utf-8")
    assert out["model"] == {"id": 1, "title": "printer"} and out["dataclass"] == {
        "name": "manual",
        "score": 0.5,
    }
    assert out["bytes"] == {"__obs__": "bytes", "length": 3, "base64": "AAH/"}
    assert out["when"] == "2026-11-20T12:00:00+00:00" and out["money"] == "0.10"
    assert out["nan"] == "NaN" and out["inf"] == "inf" and out["set"] == [3]
    assert out["surrogate"] == "lone \ufffd surrogate" and out["nul"] == "before\x00after"
    assert out["object"]["__obs__"] == "object" and out["object"]["type"] == "object"
    assert out["image"] == WEIRD["image"]


def test_cycles_are_marked_not_followed() -> None:
    loop: list[object] = []
    loop.append(loop)
    assert to_jsonable(loop) == [{"__obs__": "cycle"}]


def test_snapshot_copies_containers_only() -> None:
    inner = {"content": "hi"}
    data = {"messages": [inner]}
    copy = snapshot(data)
    inner["content"] = "changed"
    assert copy == {"messages": [{"content": "hi"}]}


@pytest.fixture
def recording(db_url: str, tmp_path: Path) -> Iterator[Store]:
    obs.configure(db_url, spool_dir=tmp_path / "spool")
    store = Store(db_url)
    yield store
    obs.configure(None)
    store.close()


def test_weird_values_and_a_5_mb_prompt_are_stored_on_each_dialect(recording: Store) -> None:
    big = "x" * (5 * 1024 * 1024)
    with obs.trace("weird") as t, obs.span("everything", input=WEIRD) as s:
        s.set_output({"prompt": big})
    assert obs.flush(30)
    trace = recording.get_trace(t.trace_id)
    assert trace is not None
    stored = {s.name: s for s in trace.spans}["everything"]
    assert stored.output == {"prompt": big}
    assert stored.input["model"] == {"id": 1, "title": "printer"}
    assert stored.input["surrogate"] == "lone \ufffd surrogate"
    assert stored.input["nul"].startswith("before") and stored.input["nul"].endswith("after")
    assert obs.stats().rejected == 0 and obs.stats().dropped == 0


def test_the_spool_keeps_a_lone_surrogate_as_it_was(tmp_path: Path) -> None:
    """The spool is UTF-8 text; a string that is not UTF-8 goes in as a JSON escape and comes back the same."""
    span = Span(id="s1", trace_id="t1", name="lone \ud800", start_ts=datetime(2026, 11, 20, tzinfo=UTC))
    spool = Spool(tmp_path / "spool")
    assert spool.append([span]) == 1
    lines = [line for path in (tmp_path / "spool").iterdir() for line in path.read_text("utf-8").splitlines()]
    assert [spool_loads(line) for line in lines] == [span]

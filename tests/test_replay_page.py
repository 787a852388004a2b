"""The Replay page under Streamlit's AppTest: open a call, replay it with a new prompt, see the diff; runs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from obs.demo.provider import DemoProvider
from obs.records import LLMCall
from obs.replay.call import Overrides
from obs.replay.providers import Provider
from obs.replay.runs import Selection, run_batch
from obs.store.store import Store
from tests.replay_support import FRIENDLY, SYSTEM, messages, record_calls

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoProvider]:
    with DemoProvider(speed=0) as provider:
        yield provider


@pytest.fixture
def recorded(store: Store, db_url: str, demo: DemoProvider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A store holding one help answer recorded through the demo provider; replays go to that provider."""
    providers = tmp_path / "providers.toml"
    providers.write_text(f'[providers.local]\nbase_url = "{demo.url}"\nmax_retries = 0\n')
    monkeypatch.setenv("OBS_PROVIDERS_FILE", str(providers))
    monkeypatch.setenv("OBS_REPLAY_PROVIDER", "local")
    monkeypatch.setenv("OBS_DATABASE_URL", db_url)
    monkeypatch.delenv("OBS_DASHBOARD_PASSWORD", raising=False)
    body = {"model": "gpt-5-mini", "messages": messages(), "temperature": 0}
    return record_calls(store.engine.url.render_as_string(hide_password=False), demo.url, [body])[0]


def run(**params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("pages/5_Replay.py").run()
    assert not at.exception, at.exception
    return at


def test_replay_with_a_new_system_prompt_shows_the_word_diff(recorded: str) -> None:
    at = run(call=recorded)
    prompt = next(t for t in at.text_area if t.label == "System prompt")
    assert prompt.value == SYSTEM
    assert "No replays of this call yet" in at.info[0].value
    prompt.set_value(FRIENDLY)
    next(b for b in at.button if b.label == "Replay").click()
    at.run()
    assert not at.exception and not at.error, at.error
    assert any(m.value == "#### Answer changed" for m in at.markdown)
    diff = " ".join(h.proto.body for h in at.get("html"))
    assert "Happy to help!" in diff and "#ccf5d3" in diff  # the inserted words, in green
    assert len(at.dataframe[0].value) == 1  # the replay is listed with the call's replays


def test_an_unknown_call_and_a_call_without_content_say_so(recorded: str, store: Store) -> None:
    assert "No call with id" in run(call="nope").error[0].value
    ts = datetime.now(UTC)
    store.write_batch([LLMCall(id="meta", trace_id="t", ts=ts, model="gpt-5-mini", content_state="metadata_only")])
    assert "cannot be replayed: its content is metadata-only" in run(call="meta").error[0].value


def test_a_stored_run_opens_with_its_summary(recorded: str, store: Store, demo: DemoProvider) -> None:
    run_batch(store, Selection(feature="help_answer"), Overrides(system_prompt=FRIENDLY), name="friendly",
              provider=Provider("local", demo.url, None, max_retries=0))  # fmt: skip
    home = run()
    assert "friendly" in home.dataframe[0].value["name"].tolist()
    at = run(run="friendly")
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Calls"] == "1" and tiles["Answers changed"] == "1"
    assert len(at.dataframe[0].value) == 1


def test_the_batch_form_runs_a_replay_with_progress_and_lists_the_run(recorded: str) -> None:
    at = run()
    next(t for t in at.text_input if t.label == "...or the calls of a feature").set_value("help_answer")
    next(t for t in at.text_input if t.label == "Model").set_value("gpt-4.1")
    next(t for t in at.text_input if t.label == "Run name").set_value("on 4.1")
    next(b for b in at.button if b.label == "Run batch replay").click()
    at.run()
    assert not at.exception and not at.error, at.error
    assert 'Run "on 4.1" finished: 1 of 1 answers changed, 0 errors.' in at.success[0].value
    assert "on 4.1" in at.dataframe[0].value["name"].tolist()

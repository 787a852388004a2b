"""`obs replay`: a readable diff for one call, a summary for a dataset, one clear line for every mistake."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from obs.cli.main import main
from obs.demo.provider import DemoProvider
from obs.store.schema import eval_cases
from obs.store.store import Store
from tests.replay_support import FRIENDLY, messages, record_calls


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoProvider]:
    with DemoProvider(speed=0) as provider:
        yield provider


@pytest.fixture
def env(demo: DemoProvider, tmp_path: Path) -> dict[str, str]:
    """A provider file with a local demo provider (no key) and one whose key variable is unset."""
    path = tmp_path / "providers.toml"
    path.write_text(
        f'[providers.local]\nbase_url = "{demo.url}"\nmax_retries = 0\n\n'
        f'[providers.keyed]\nbase_url = "{demo.url}"\napi_key_env = "OBS_TEST_UNSET_KEY"\n'
    )
    return {"OBS_PROVIDERS_FILE": str(path), "OBS_REPLAY_PROVIDER": "local", "OBS_TEST_UNSET_KEY": ""}


def obs(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def _recorded(store: Store, demo: DemoProvider, n: int = 1) -> list[str]:
    bodies = [{"model": "gpt-5-mini", "messages": messages(f"How do I download past invoices? ({i})"),
               "temperature": 0} for i in range(n)]  # fmt: skip
    return record_calls(store.engine.url.render_as_string(hide_password=False), demo.url, bodies)


def test_replay_prints_the_answer_unchanged_then_a_diff_with_a_new_prompt(
    store: Store, db_url: str, demo: DemoProvider, env: dict[str, str], tmp_path: Path
) -> None:
    (call_id,) = _recorded(store, demo)
    code, out = obs(env, "replay", call_id, "--database-url", db_url)
    assert code == 0, out
    assert f"Replayed call {call_id} (help_answer, gpt-5-mini) on local: exact replay" in out
    assert "answer: unchanged" in out and f"replay_of={call_id}" in out
    prompt = tmp_path / "prompt.txt"
    prompt.write_text(FRIENDLY)
    code, out = obs(env, "replay", call_id, "--database-url", db_url, "--system-prompt-file", str(prompt),
                    "--model", "gpt-4.1", "--param", "max_tokens=300")  # fmt: skip
    assert code == 0, out
    assert "answer: changed" in out and "{+Happy to help!" in out
    assert "model              gpt-5-mini             gpt-4.1" in out
    assert "latency" in out and " ms" in out
    assert f"2 replays of this call so far; compare any of them on the dashboard: Replay page, ?call={call_id}" in out


def test_replay_mistakes_are_one_line_with_exit_status_1(
    store: Store, db_url: str, demo: DemoProvider, env: dict[str, str]
) -> None:
    (call_id,) = _recorded(store, demo)
    cases = [
        (["replay", "nope"], "Error: no call with id 'nope'"),
        (["replay", call_id, "--provider", "keyed"], "needs an API key: set $OBS_TEST_UNSET_KEY"),
        (
            ["replay", call_id, "--provider", "missing"],
            "unknown provider 'missing' (known: anthropic, demo, keyed, local, openai)",
        ),
        (["replay", call_id, "--replace", "not in the prompt", "x"], "the system prompt does not contain"),
        (["replay", "--dataset", "none"], "nothing to replay: no calls match dataset none"),
        (["replay", "--show-run", "never"], "no replay run named 'never'"),
    ]
    for args, message in cases:
        code, out = obs(env, *args, "--database-url", db_url)
        assert code == 1 and message in out and "Traceback" not in out, (args, out)
    code, out = obs(env, "replay", "--database-url", db_url)
    assert code == 2 and "give a CALL_ID, or --dataset NAME" in out


def test_batch_replay_of_a_dataset_prints_the_summary_and_can_be_shown_again(
    store: Store, db_url: str, demo: DemoProvider, env: dict[str, str]
) -> None:
    ids = _recorded(store, demo, 5)
    now = datetime.now(UTC)
    with store.control.begin() as connection:
        connection.execute(eval_cases.insert(), [
            {"dataset": "invoices", "call_id": i, "created_at": now, "updated_at": now} for i in ids
        ])  # fmt: skip
    code, out = obs(env, "replay", "--dataset", "invoices", "--name", "to 4.1", "--model", "gpt-4.1",
                    "--concurrency", "2", "--database-url", db_url)  # fmt: skip
    assert code == 0, out
    assert 'Run "to 4.1"' in out and "calls      5 (5 replayed, 0 errors)" in out
    assert "answers    5 changed, 0 unchanged" in out
    code, again = obs(env, "replay", "--show-run", "to 4.1", "--database-url", db_url)
    assert code == 0 and "answers    5 changed, 0 unchanged" in again


def test_a_provider_file_holding_a_key_is_refused(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "providers.toml"
    path.write_text('[providers.bad]\nbase_url = "https://example.invalid/v1"\napi_key = "sk-oops"\n')
    code, out = obs({"OBS_PROVIDERS_FILE": str(path)}, "replay", "x", "--provider", "bad", "--database-url", db_url)
    assert code == 1 and "holds a key; put it in an environment variable" in out and "sk-oops" not in out

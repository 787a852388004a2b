"""`obs evals sample | list | export`: thin commands over obs.evals; bad input is one line and exit status 1."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from obs.cli.main import main
from obs.evals import Evals, read_jsonl
from obs.store.store import Store
from tests.factories import seeded_calls, thumbs_down

NOW = datetime.now(UTC).replace(microsecond=0)
CALLS = seeded_calls(NOW, n=200)


def obs(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def seeded(db_url: str) -> Evals:
    store = Store(db_url)
    store.write_batch(CALLS, feedback_=thumbs_down(CALLS))
    return Evals(store)


def test_sample_queues_calls_and_reports_each_rule(db_url: str) -> None:
    evals = seeded(db_url)
    code, out = obs("evals", "sample", "--since", "7d", "--per-rule", "3", "--seed", "1", "--database-url", db_url)
    assert code == 0, out
    queued = len(evals.queue())
    assert out.startswith(f"sampled {queued} calls from ")
    table = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:7]}
    assert set(table) == {"thumbs_down", "error", "refusal", "slow", "expensive"}
    assert all(int(taken) <= 3 for _, taken in table.values())
    assert f"{queued} candidates wait in the triage queue" in out
    evals.store.close()


def test_sample_can_be_narrowed_to_some_rules_and_a_feature(db_url: str) -> None:
    evals = seeded(db_url)
    code, out = obs("evals", "sample", "--rule", "error", "--rule", "refusal", "--feature", "ticket_triage",
                    "--database-url", db_url)  # fmt: skip
    assert code == 0, out
    queue = evals.queue()
    assert set(queue["feature"]) <= {"ticket_triage"} and len(queue) > 0
    assert all(row.status == "error" or row.is_refusal for row in queue.itertuples())
    evals.store.close()


def test_list_shows_datasets_and_the_queue(db_url: str) -> None:
    evals = seeded(db_url)
    code, out = obs("evals", "list", "--database-url", db_url)
    assert code == 0 and "no datasets yet" in out and "triage queue: 0 waiting" in out
    case = evals.open_call(CALLS[0].id)
    evals.accept(case.id, dataset="refunds", reviewer="ann", expected_output="x")
    code, out = obs("evals", "list", "--database-url", db_url)
    assert code == 0 and out.splitlines()[1].split()[:3] == ["refunds", "1", "1"]
    evals.store.close()


def test_export_writes_a_jsonl_file_that_re_reads_into_the_cases(db_url: str, tmp_path: Path) -> None:
    evals = seeded(db_url)
    for call in CALLS[:3]:
        evals.accept(evals.open_call(call.id).id, dataset="refunds", reviewer="ann", expected_output=f"ideal {call.id}")
    target = tmp_path / "refunds.jsonl"
    code, out = obs("evals", "export", "refunds", "--format", "jsonl", "-o", str(target), "--database-url", db_url)
    assert code == 0 and out == f"wrote 3 cases of dataset 'refunds' to {target} (jsonl)\n"
    lines = read_jsonl(target.read_text(encoding="utf-8"))
    assert [(x.call_id, x.ideal) for x in lines] == [(c.id, f"ideal {c.id}") for c in CALLS[:3]]
    assert all(set(json.loads(line)) >= {"input", "ideal"} for line in target.read_text().splitlines())
    code, out = obs("evals", "export", "refunds", "--format", "csv", "--database-url", db_url)
    assert code == 0 and out.splitlines()[0].startswith("case_id,dataset,call_id") and len(out.splitlines()) == 4
    evals.update_case(lines[0].case_id, expected_output="two\nlines", labels=None, notes="a, b\nc")
    code, out = obs("evals", "export", "refunds", "--format", "csv", "-o", str(tmp_path / "r.csv"), "--database-url",
                    db_url)  # fmt: skip
    assert code == 0 and out.startswith("wrote 3 cases")
    evals.store.close()


def test_bad_input_is_one_line_and_exit_status_1(db_url: str, tmp_path: Path) -> None:
    evals = seeded(db_url)
    code, out = obs("evals", "sample", "--since", "last week", "--database-url", db_url)
    assert (code, out.strip().count("\n")) == (1, 0) and "expected a duration like 24h" in out
    code, out = obs("evals", "export", "nope", "--database-url", db_url)
    assert code == 1 and out.strip() == "Error: no dataset 'nope' (datasets: none yet)"
    evals.accept(evals.open_call(CALLS[0].id).id, dataset="d", reviewer="ann", expected_output="x")
    code, out = obs("evals", "export", "d", "-o", str(tmp_path / "missing" / "d.jsonl"), "--database-url", db_url)
    assert code == 1 and "does not exist" in out
    assert len(evals.dataset_cases("d")) == 1  # nothing recorded was touched
    evals.store.close()


def test_sample_window_is_relative_to_now(db_url: str) -> None:
    evals = seeded(db_url)
    code, _ = obs("evals", "sample", "--since", "1h", "--per-rule", "100", "--database-url", db_url)
    recent = {c.id for c in CALLS if c.ts >= NOW - timedelta(hours=1)}
    assert code == 0 and set(evals.queue()["call_id"]) <= recent
    evals.store.close()

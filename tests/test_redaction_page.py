"""The Redaction page under Streamlit's AppTest: preview of a pasted text and of a recorded call, saving policies."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from obs.privacy import policy
from tests.test_dashboard import run, seeded  # noqa: F401 - the fixture is used by name

PAGE = "pages/9_Redaction.py"


@pytest.fixture
def policy_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "obs-privacy.toml"
    path.write_text('[default]\nmode = "redact"\n\n[features.ticket_triage]\nmode = "metadata_only"\n')
    monkeypatch.setenv("OBS_PRIVACY_FILE", str(path))
    return path


def test_pasted_text_shows_findings_and_is_stored_redacted(seeded: str, policy_file: Path) -> None:  # noqa: F811
    at = run(PAGE, window="30d")
    at.radio[0].set_value("Pasted text").run()
    at.text_area[0].set_value("Please call Maria Garcia on +1 415-555-0132 or write to maria@example.com").run()
    assert not at.exception
    shown = [str(t.value) for t in at.text]
    assert "Please call <PERSON> on <PHONE_NUMBER> or write to <EMAIL_ADDRESS>" in shown
    assert {"PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS"} <= set(findings(at)["entity"])
    assert at.json[0].value and '"redacted"' in at.json[0].value


def findings(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "entity" in d.value.columns)


def test_an_allowed_term_is_not_flagged_and_a_denied_one_always_is(seeded: str, policy_file: Path) -> None:  # noqa: F811
    at = run(PAGE, window="30d")
    at.radio[0].set_value("Pasted text").run()
    at.text_area[0].set_value("Open Flowdesk Settings, Maria Garcia; Orion ships Friday. Flowdesk rocks.").run()
    assert "Flowdesk" in set(findings(at)["text"])  # spaCy's small model calls the product a PERSON
    next(t for t in at.text_input if t.label == "Never redact").set_value("flowdesk, Settings").run()
    next(t for t in at.text_input if t.label == "Always redact").set_value("Orion").run()
    assert not at.exception
    found = findings(at)
    assert not {"Flowdesk", "Settings", "Flowdesk Settings"} & set(found["text"])
    assert ("DENY_LIST", "Orion") in set(zip(found["entity"], found["text"], strict=True))
    assert "Maria Garcia" in set(found["text"])  # a name is still a name
    assert any("Open Flowdesk Settings, <PERSON>; <DENY_LIST> ships" in str(t.value) for t in at.text)


def test_a_metadata_only_feature_would_store_no_content(seeded: str, policy_file: Path) -> None:  # noqa: F811
    at = run(PAGE, window="30d")
    at.radio[0].set_value("Pasted text").run()
    feature = next(s for s in at.selectbox if s.label == "Feature (whose policy applies)")
    feature.set_value("ticket_triage").run()
    assert '"metadata_only"' in at.json[0].value and '"content": null' in at.json[0].value


def test_a_recorded_call_is_previewed(seeded: str, policy_file: Path) -> None:  # noqa: F811
    at = run(PAGE, window="30d")
    assert any("Findings" in str(m.value) for m in at.markdown)
    assert '"redacted"' in at.json[0].value or '"metadata_only"' in at.json[0].value


def test_saving_the_table_writes_a_policy_file_the_writer_reads(seeded: str, policy_file: Path) -> None:  # noqa: F811
    at = run(PAGE, window="30d")
    at.checkbox[0].check()
    next(b for b in at.button if b.label == "Save policies").click().run()
    assert not at.exception and at.success
    saved = policy.load(policy_file)
    assert saved.hash_user_ids and saved.default.mode == "redact"
    assert saved.for_feature("ticket_triage").mode == "metadata_only"

"""Privacy policies as values, the policy file, the analyzer offline, and the `obs privacy` / `obs retention` CLI."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from obs.cli.main import main
from obs.privacy import policy as p
from obs.privacy.redact import Finding, anonymize, resolve
from obs.recorder.privacy import FAIL_CLOSED, PrivacyStep
from obs.records import CallContent
from obs.store.store import Store
from tests.factories import make_call

POLICY_FILE = """
hash_user_ids = true

[default]
mode = "redact"
threshold = 0.6

[features.checkout]
mode = "metadata_only"

[features.chat]
mode = "sample"
sample_rate = 0.25
sample_redact = true
operator = "mask"
"""


def test_a_feature_inherits_what_it_leaves_out_from_the_default(tmp_path: Path) -> None:
    path = tmp_path / "obs-privacy.toml"
    path.write_text(POLICY_FILE)
    policies = p.load(path)
    assert policies.hash_user_ids and policies.default == p.Policy(mode="redact", threshold=0.6)
    assert policies.for_feature("chat") == p.Policy(mode="sample", sample_rate=0.25, sample_redact=True,
                                                    threshold=0.6, operator="mask")  # fmt: skip
    assert policies.for_feature("chat").label == "sample:0.25+redact"
    assert policies.for_feature("unknown") == policies.default
    assert p.parse(__import__("tomllib").loads(p.dumps(policies))) == policies  # what the page saves reads back


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[default]\nmode = "scramble"', "mode 'scramble' is not one of full, redact, metadata_only, sample"),
        ("[features.chat]\nsample_rate = 3", "[features.chat]: sample_rate 3.0 must be between 0 and 1"),
        ('[default]\nentities = "EMAIL"', "entities must be a list"),
        ('[default]\nmdoe = "redact"', "unknown key 'mdoe'"),
        ("[default\n", "is not valid TOML"),
    ],
)
def test_a_bad_policy_file_is_a_one_line_error_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "obs-privacy.toml"
    path.write_text(text)
    with pytest.raises(p.PolicyError, match=message.replace("[", r"\[").replace("(", r"\(")):
        p.load(path)


def test_the_writer_stores_no_content_when_the_policy_file_is_broken_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "obs-privacy.toml"
    path.write_text('[default]\nmode = "redactt"')
    step = PrivacyStep(path=path)
    assert step.policies() == FAIL_CLOSED
    stored = step.apply([make_call(datetime.now(UTC))])[0]
    assert stored.content is None and stored.content_state == "metadata_only"


def test_sampling_is_stable_per_call_id_and_uniform() -> None:
    ids = [f"{i:016x}" for i in range(4000)]
    kept = [i for i in ids if p.sampled(i, 0.1)]
    assert kept == [i for i in ids if p.sampled(i, 0.1)]
    assert abs(len(kept) / len(ids) - 0.1) < 0.02
    assert all(p.sampled(i, 1.0) for i in ids[:10]) and not any(p.sampled(i, 0.0) for i in ids[:10])


def test_overlapping_findings_keep_the_best_and_operators_replace_mask_and_hash() -> None:
    text = "mail maria@example.com now"
    findings = [Finding("EMAIL_ADDRESS", 5, 22, 1.0), Finding("URL", 12, 22, 0.5)]
    assert resolve(findings) == [findings[0]]
    assert anonymize(text, findings, "replace") == "mail <EMAIL_ADDRESS> now"
    assert anonymize(text, findings, "mask") == "mail " + "*" * 17 + " now"
    hashed = anonymize(text, findings, "hash", b"k")
    assert hashed == anonymize(text, findings, "hash", b"k") != anonymize(text, findings, "hash", b"other")
    assert hashed.startswith("mail <EMAIL_ADDRESS:") and "maria" not in hashed


def test_redaction_reaches_system_prompt_messages_tool_arguments_response_and_tool_calls() -> None:
    from obs.privacy import redact

    secret = "maria@example.com"
    call = make_call(datetime.now(UTC), feature="support")
    content = CallContent(
        system_prompt=f"escalate to {secret}",
        messages=[{"role": "user", "content": [{"type": "text", "text": f"I am {secret}"}]},
                  {"role": "assistant",
                   "tool_calls": [{"id": "c1", "function": {"arguments": f'{{"to": "{secret}"}}'}}]}],
        response={"id": "r1", "choices": [{"message": {"content": f"Hello {secret}"}}]},
        tool_calls=[{"id": "c2", "function": {"arguments": f'{{"cc": "{secret}"}}'}}],
        output_text=f"Hello {secret}",
    )  # fmt: skip
    call = __import__("dataclasses").replace(call, content=content)

    def find(texts: list[str], policy: p.Policy) -> list[list[Finding]]:
        return [[Finding("EMAIL_ADDRESS", t.index(secret), t.index(secret) + len(secret), 1.0)] if secret in t
                 else [] for t in texts]  # fmt: skip

    stored = redact.apply([call], p.Policies(default=p.Policy(mode="redact")), find)[0]
    assert stored.content_state == "redacted" and secret not in repr(stored.content)
    assert stored.content.tool_calls[0]["function"]["arguments"] == '{"cc": "<EMAIL_ADDRESS>"}'
    assert stored.content.response["id"] == "r1"  # structure is left alone


def test_the_analyzer_never_touches_the_network() -> None:
    """A fresh process with sockets blocked builds the analyzer and finds emails and URLs (tldextract offline)."""
    script = textwrap.dedent("""
        import socket
        def refuse(*args, **kwargs):
            raise RuntimeError(f"network access attempted: {args!r}")
        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        from obs.privacy.analyzer import Analyzer
        from obs.privacy.policy import Policy
        analyzer = Analyzer()
        text = "Maria Garcia, maria.garcia@example.co.uk, see https://shop.example.com/orders/7 from 10.1.2.3"
        found = {f.entity for f in analyzer.find([text], Policy())[0]}
        print(sorted(found))
        assert {"EMAIL_ADDRESS", "URL", "IP_ADDRESS", "PERSON"} <= found, found
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "network access attempted" not in result.stderr


def obs(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_retention_cli_dry_run_then_apply(db_url: str, open_store: type[Store]) -> None:
    now = datetime.now(UTC)
    store = open_store(db_url)
    store.write_batch([make_call(now - timedelta(days=d)) for d in (1, 40, 400)])
    code, out = obs("retention", "apply", "--dry-run", "--database-url", db_url)
    assert code == 0 and "1 calls would be deleted, content of 1 calls would expire" in out
    assert "dry run: nothing changed" in out
    code, out = obs("retention", "apply", "--database-url", db_url)
    assert code == 0 and "1 calls were deleted, content of 1 calls expired" in out
    assert store.stats().calls == 2


def test_retention_cli_bad_environment_is_one_line(db_url: str) -> None:
    code, out = obs("retention", "apply", "--database-url", db_url, env={"OBS_RETENTION_DELETE_DAYS": "soon"})
    assert code == 1 and "Error: OBS_RETENTION_DELETE_DAYS='soon' is not a whole number of days" in out
    assert "Traceback" not in out


def test_privacy_redact_cli_shows_findings_and_the_stored_text(tmp_path: Path) -> None:
    code, out = obs("privacy", "redact", "write to maria@example.com", env={"OBS_PRIVACY_FILE": str(tmp_path / "x")})
    assert code == 0 and "EMAIL_ADDRESS  1.00  'maria@example.com'" in out
    assert out.rstrip().endswith("write to <EMAIL_ADDRESS>")


def test_privacy_show_lists_policies_and_rejects_a_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "obs-privacy.toml"
    path.write_text(POLICY_FILE)
    code, out = obs("privacy", "show", env={"OBS_PRIVACY_FILE": str(path)})
    assert code == 0 and "checkout         metadata_only" in out and "keyed hashes" in out
    path.write_text("[default]\nmode = 1.5\n[default]")
    code, out = obs("privacy", "show", env={"OBS_PRIVACY_FILE": str(path)})
    assert code == 1 and "is not valid TOML" in out and "Traceback" not in out


def test_a_saved_policy_file_reads_back_in_toml_and_in_json(tmp_path: Path) -> None:
    policies = p.Policies(
        default=p.Policy(mode="redact", operator="hash"),
        features={"chat bot": p.Policy(mode="sample", sample_rate=0.5), "billing": p.Policy(mode="metadata_only")},
        hash_user_ids=True,
    )
    for name in ("obs-privacy.toml", "obs-privacy.json"):
        p.save(policies, tmp_path / name)
        assert p.load(tmp_path / name) == policies


def test_spans_of_a_redacted_feature_are_redacted_and_of_a_metadata_only_feature_emptied() -> None:
    from obs.privacy import redact
    from tests.factories import make_span

    secret = "maria@example.com"

    def find(texts: list[str], policy: p.Policy) -> list[list[Finding]]:
        return [[Finding("EMAIL_ADDRESS", t.index(secret), t.index(secret) + len(secret), 1.0)] if secret in t
                 else [] for t in texts]  # fmt: skip

    now = datetime.now(UTC)
    spans = [make_span("t1", now, feature="support", input={"query": f"orders of {secret}"}, output=[secret + " x"]),
             make_span("t2", now, feature="billing", input={"q": secret}, user_id="alice")]  # fmt: skip
    policies = p.Policies(features={"support": p.Policy(mode="redact"), "billing": p.Policy(mode="metadata_only")},
                          hash_user_ids=True)  # fmt: skip
    redacted, emptied = redact.apply(spans, policies, find, b"k")
    assert redacted.input == {"query": "orders of <EMAIL_ADDRESS>"} and redacted.output == ["<EMAIL_ADDRESS> x"]
    assert emptied.input is None and emptied.output is None
    assert emptied.user_id == p.hash_user_id("alice", b"k")


def test_allow_and_deny_lists_are_read_saved_and_inherited(tmp_path: Path) -> None:
    path = tmp_path / "obs-privacy.toml"
    path.write_text('[default]\nmode = "redact"\nallow = ["Flowdesk", " Settings ", "Flowdesk"]\ndeny = ["Orion"]\n'
                    '[features.chat]\nmode = "redact"\nthreshold = 0.5\n')  # fmt: skip
    loaded = p.load(path)
    assert loaded.default.allow == ("Flowdesk", "Settings") and loaded.default.deny == ("Orion",)
    assert loaded.for_feature("chat").allow == ("Flowdesk", "Settings")  # inherited from [default]
    p.save(loaded, path)
    assert p.load(path) == loaded
    path.write_text('[default]\nallow = "Flowdesk"\n')
    with pytest.raises(p.PolicyError, match="allow must be a list"):
        p.load(path)


def test_the_analyzer_keeps_allowed_words_and_always_finds_denied_ones() -> None:
    from obs.privacy.analyzer import default_analyzer

    text = "Ask Maria Garcia in Flowdesk Settings about ORION; Maria Flowdesk signed."
    policy = p.Policy(mode="redact", allow=("flowdesk", "settings"), deny=("Orion",))
    found = {(f.entity, text[f.start : f.end]) for f in default_analyzer().find([text], policy)[0]}
    assert ("DENY_LIST", "ORION") in found and ("PERSON", "Maria Garcia") in found
    assert not any(word in {"Flowdesk", "Settings", "Flowdesk Settings"} for _, word in found)
    # Pattern recognizers only, no entity of the policy known: the deny list still works.
    only_deny = p.Policy(mode="redact", entities=("US_PASSPORT",), deny=("Orion",), threshold=0.99)
    assert [text[f.start : f.end] for f in default_analyzer().find([text], only_deny)[0]] == ["ORION"]

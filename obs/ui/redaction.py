"""The Redaction page: the policies (edit and save), and a preview of what redaction does to a call or a text."""

from __future__ import annotations

import html
from dataclasses import replace
from typing import Any

import pandas as pd
import streamlit as st

from obs import config
from obs.privacy import policy as p
from obs.privacy.analyzer import Analyzer, default_analyzer
from obs.privacy.preview import Preview, TextPreview, pasted_call, preview
from obs.privacy.redact import resolve
from obs.recorder.privacy import PrivacyStep
from obs.ui.state import Filters, current_store, query

DEFAULT_ROW = "(default)"
SAMPLE_TEXT = ("Hi, this is Maria Garcia from Springfield. My card 4111 1111 1111 1111 was charged twice; "
               "reach me at maria.garcia@example.com or +1 415-555-0132.")  # fmt: skip
#: One colour per entity family, so findings are easy to tell apart.
COLOURS = {"PERSON": "#f9c74f", "LOCATION": "#90be6d", "EMAIL_ADDRESS": "#ff8fa3", "PHONE_NUMBER": "#f8961e",
           "CREDIT_CARD": "#c77dff", "IBAN_CODE": "#c77dff", "URL": "#4cc9f0", "IP_ADDRESS": "#4cc9f0"}  # fmt: skip

#: The policy table's columns (fitting 1440 px beside the sidebar).
POLICY_COLUMNS = {
    "feature": st.column_config.TextColumn("Feature", help=f"{DEFAULT_ROW} applies to every other feature", width=110),
    "mode": st.column_config.SelectboxColumn("Mode", options=list(p.MODES), required=True, width=104),
    "sample_rate": st.column_config.NumberColumn("Sample rate", min_value=0.0, max_value=1.0, step=0.05, width=80),
    "sample_redact": st.column_config.CheckboxColumn("Redact samples", width=80),
    "threshold": st.column_config.NumberColumn("Score threshold", min_value=0.0, max_value=1.0, step=0.05, width=80),
    "operator": st.column_config.SelectboxColumn("Operator", options=list(p.OPERATORS), required=True, width=84),
    "entities": st.column_config.TextColumn("Entities (comma separated)", width=150),
    "allow": st.column_config.TextColumn(
        "Never redact", help="Terms never redacted, e.g. your product's name (comma separated, any case)", width=120
    ),
    "deny": st.column_config.TextColumn(
        "Always redact", help="Terms always redacted, as DENY_LIST (comma separated, any case)", width=120
    ),
}


@st.cache_resource(show_spinner="Loading the analyzer (spaCy model, offline)…")
def analyzer() -> Analyzer:
    return default_analyzer()


def current_policies() -> tuple[p.Policies, str]:
    """The policies in force and a one-line note on where they come from."""
    path = config.privacy_file()
    if not path.exists():
        return p.Policies(), f"No policy file at `{path}`: every call is stored in full."
    try:
        return p.load(path), f"Policies from `{path}` (the writer re-reads it within {config.PRIVACY_RELOAD_S:g} s)."
    except p.PolicyError as exc:
        return PrivacyStep(path=path).policies(), f"⚠️ {exc} — the writer stores metadata only until it is fixed."


def policies_editor(policies: p.Policies) -> None:
    """The policies as a table: edit modes, rates, thresholds, operators, add a feature, save to the file."""
    rows = [_row(DEFAULT_ROW, policies.default)] + [_row(name, pol) for name, pol in sorted(policies.features.items())]
    edited = st.data_editor(
        pd.DataFrame(rows),
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        key="policy_table",
        column_config=POLICY_COLUMNS,
    )
    hash_users = st.checkbox("Store user ids as keyed hashes (HMAC-SHA256 with `OBS_HASH_KEY`)",
                             value=policies.hash_user_ids)  # fmt: skip
    if st.button("Save policies", type="primary"):
        try:
            new = _policies_from(edited, hash_users)
            p.save(new, config.privacy_file())
        except (p.PolicyError, OSError, ValueError) as exc:
            st.error(str(exc))
        else:
            st.success(f"Saved to `{config.privacy_file()}`: new calls are stored under these policies.")


def preview_section(filters: Filters, policies: p.Policies) -> None:
    """Pick a call or paste a text; tune a policy; see findings, both redactions and what would be stored."""
    source = st.radio("Preview on", ["A recorded call", "Pasted text"], horizontal=True)
    if source == "A recorded call":
        calls = query("redaction_calls", filters, limit=200)
        if calls.empty:
            st.info("No call with content in this window: paste a text instead.")
            return
        labels = {
            f"{row['ts']:%m-%d %H:%M} · {row['feature'] or '—'} · {row['model']} · {row['id']}": str(row["id"])
            for row in calls.to_dict("records")
        }  # a label per call: when, feature, model, id
        chosen = st.selectbox("Call", list(labels))
        call = current_store().get_call(str(labels[chosen]))
        if call is None or call.content is None:
            st.info("That call has no content stored.")
            return
    else:
        features = [DEFAULT_ROW, *sorted(policies.features)]
        feature = st.selectbox("Feature (whose policy applies)", features)
        text = st.text_area("Text", SAMPLE_TEXT, height=100)
        call = pasted_call(text, None if feature == DEFAULT_ROW else feature)
    current = policies.for_feature(call.feature)
    st.markdown("**Edited policy** (try it here; save it in the table above)")
    a, b, c = st.columns([3, 1, 1])
    known = list(analyzer().info.entities)
    entities = a.multiselect("Entities", known, default=[e for e in current.entities if e in known])
    threshold = b.slider("Score threshold", 0.0, 1.0, float(current.threshold), 0.05)
    operator = c.selectbox("Operator", list(p.OPERATORS), index=list(p.OPERATORS).index(current.operator))
    a, b = st.columns(2)
    allow = a.text_input("Never redact", ", ".join(current.allow), placeholder="e.g. Flowdesk, Settings",
                         help="Terms never redacted (comma separated, any case): your product's own words")  # fmt: skip
    deny = b.text_input("Always redact", ", ".join(current.deny), placeholder="e.g. Project Orion",
                        help="Terms always redacted, found as DENY_LIST (comma separated, any case)")  # fmt: skip
    edited = replace(current, mode="redact", entities=tuple(entities) or current.entities, threshold=threshold,
                     operator=operator, allow=tuple(_split(allow)), deny=tuple(_split(deny)))  # fmt: skip
    result = preview(call, policies, edited, analyzer().find, config.hash_key())
    _render(result)


#: A text longer than this is shown in a box of its own height that scrolls (the page stays about two screens).
LONG_TEXT = 600
FINDING_COLUMNS = {"entity": "Entity", "score": "Score", "text": "Text", "redacted": "Redacted"}


def _render(result: Preview) -> None:
    findings = [(t, f) for t in result.texts for f in t.findings]
    st.markdown(f"**Findings** under the edited policy: {len(findings)} in {len(result.texts)} texts")
    if findings:
        rows = [{"entity": f.entity, "score": round(f.score, 2), "text": t.text[f.start : f.end],
                 "redacted": "✓" if f in resolve(t.findings) else "no: inside a better finding"}
                for t, f in findings]  # fmt: skip
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", height=min(36 + 35 * len(rows), 248),
                     column_config=FINDING_COLUMNS)  # fmt: skip
    current = result.current
    st.markdown(f"**Each text**: what was found in it, and what the edited policy (`{result.edited.operator}`, "
                f"threshold {result.edited.threshold:g}) would store. Stored now, under `{current.label}` for "
                f"feature `{result.feature or DEFAULT_ROW}`: {_stored_now(result)}.")  # fmt: skip
    for text in result.texts:
        box = st.container(border=True, height=230 if len(text.text) > LONG_TEXT else "content")
        left, right = box.columns(2)
        left.markdown(_highlight(text), unsafe_allow_html=True)
        right.text(text.edited, wrap=True)
        if current.redacts and text.current not in (text.edited, text.text):
            box.caption("stored now:")
            box.text(text.current, wrap=True)
    stored_record(result.stored)


def _stored_now(result: Preview) -> str:
    if result.current.mode == "metadata_only":
        return "no content at all (metadata only)"
    if not result.current.redacts:
        return "every text as written"
    if all(t.current == t.edited for t in result.texts):
        return "the same as the edited policy"
    return "shown under a text where it differs"


def stored_record(stored: dict[str, Any]) -> None:
    """What the store would keep for the call, field by field (its JSON on demand)."""
    st.markdown("**What the store would keep for this call** under the current policies: content "
                f"**{stored['content_state']}** · policy **{stored['privacy_policy'] or '— (none)'}** · user "
                f"**{stored['user_id'] or '—'}**")  # fmt: skip
    content = stored.get("content") or {}
    if content:
        rows = [{"field": name, "kept": _summary(value)} for name, value in content.items()]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                     column_config={"field": st.column_config.TextColumn("Field", width=140),
                                    "kept": st.column_config.TextColumn("What is kept")})  # fmt: skip
    with st.expander("The stored record as JSON"):
        st.json(stored, expanded=True)


def _summary(value: Any) -> str:
    if isinstance(value, str):
        return " ".join(value.split())[:240]
    if isinstance(value, list):
        texts = [_summary(m.get("content")) if isinstance(m, dict) else _summary(m) for m in value]
        roles = [str(m.get("role", "")) for m in value if isinstance(m, dict)]
        head = f"{len(value)} item(s)" + (f" ({', '.join(roles)})" if any(roles) else "")
        return head + (f": {texts[-1][:160]}" if texts and texts[-1] else "")
    if isinstance(value, dict) or str(value).startswith("{"):
        return f"the provider's response, as JSON ({len(str(value)):,} characters)"
    return str(value)[:240]


def _highlight(text: TextPreview) -> str:
    """The text with each finding marked, its entity and score beside it."""
    out: list[str] = []
    position = 0
    for f in text.findings:
        if f.start < position:
            continue
        out.append(html.escape(text.text[position : f.start]))
        colour = COLOURS.get(f.entity, "#adb5bd")
        out.append(f'<mark style="background:{colour};padding:0 2px;border-radius:3px">'
                   f"{html.escape(text.text[f.start:f.end])}"
                   f'<sub style="font-size:0.65em"> {f.entity} {f.score:.2f}</sub></mark>')  # fmt: skip
        position = f.end
    out.append(html.escape(text.text[position:]))
    return "".join(out)


def _row(name: str, policy: p.Policy) -> dict[str, Any]:
    return {"feature": name, "mode": policy.mode, "sample_rate": policy.sample_rate,
            "sample_redact": policy.sample_redact, "threshold": policy.threshold, "operator": policy.operator,
            "entities": ", ".join(policy.entities), "allow": ", ".join(policy.allow),
            "deny": ", ".join(policy.deny)}  # fmt: skip


def _split(value: Any) -> list[str]:
    return [] if value is None or value != value else [t.strip() for t in str(value).split(",") if t.strip()]


def _policies_from(table: pd.DataFrame, hash_users: bool) -> p.Policies:
    data: dict[str, Any] = {"hash_user_ids": hash_users, "features": {}}
    for row in table.to_dict("records"):
        name = str(row.get("feature") or "").strip()
        if not name:
            continue
        values = {
            "mode": row.get("mode") or "full", "sample_rate": float(row.get("sample_rate") or 0.0),
            "sample_redact": bool(row.get("sample_redact")), "threshold": float(row.get("threshold") or 0.0),
            "operator": row.get("operator") or "replace",
            "entities": _split(row.get("entities")), "allow": _split(row.get("allow")),
            "deny": _split(row.get("deny")),
        }  # fmt: skip
        if name == DEFAULT_ROW:
            data["default"] = values
        else:
            data["features"][name] = values
    return p.parse(data, "the policy table")

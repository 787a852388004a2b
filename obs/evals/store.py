"""Eval curation on a store: sample candidates, triage them (accept, reject, undo), keep and export datasets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from obs import clock
from obs.errors import UserError
from obs.evals import export, rules
from obs.evals.cases import (
    DatasetCase,
    EvalCase,
    Undo,
    Verdict,
    duplicates,
    format_labels,
    input_messages,
    parse_labels,
)
from obs.records import Feedback, LLMCall, new_span_id
from obs.store import queries, rows
from obs.store.schema import eval_cases, llm_calls
from obs.store.store import Store, select_calls_with_content

#: Call ids per ``IN (...)`` when loading the calls of a dataset.
CHUNK = 500


class EvalError(UserError, ValueError):
    """A triage or dataset request that cannot be done as asked (the message is one clear line)."""


@dataclass(frozen=True, slots=True)
class SampleResult:
    """What a sample did: the calls it queued, how many each rule matched and took, how many calls matched a
    rule at all (``matching``), and the p95s it used."""

    picks: tuple[rules.Pick, ...]
    matched: Mapping[str, int]
    taken: Mapping[str, int]
    matching: int
    feature_p95: Mapping[str | None, float]


@dataclass(frozen=True, slots=True)
class Progress:
    """Of the cases sampled since the oldest one still waiting: how many were reviewed, how many wait."""

    sampled: int
    reviewed: int
    waiting: int


class Evals:
    """The eval cases of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # --- sampling -------------------------------------------------------------------------------------

    def sample(self, settings: rules.Settings, *, now: datetime | None = None) -> SampleResult:
        """Queue up to ``per_rule`` random calls per rule from the window (never a call an eval case holds)."""
        timed = queries.run("feature_latency_p95", db=self.store, start=settings.start, end=settings.end)
        p95 = rules.feature_p95(timed.to_dict("records"), settings.p95_min_calls)
        pool = queries.run("eval_sample_pool", db=self.store, **settings.pool_params(p95))
        calls = [_pool_call(row) for row in pool.to_dict("records")]
        picks = rules.pick(calls, settings, p95)
        matched = {rule: 0 for rule in settings.rules}
        matching = 0
        for call in calls:
            reasons = rules.reasons_for(call, settings, p95)
            matching += bool(reasons)
            for reason in reasons:
                matched[reason.rule] += 1
        taken = {rule: sum(1 for p in picks if p.picked_by == rule) for rule in settings.rules}
        when = now or clock.now()
        if picks:
            with self.store.control.begin() as connection:
                connection.execute(
                    eval_cases.insert(),
                    [
                        {
                            "call_id": p.call_id,
                            "status": "candidate",
                            "reasons": [r.as_json() for r in p.reasons],
                            "created_at": when,
                            "updated_at": when,
                        }
                        for p in picks
                    ],
                )
        return SampleResult(tuple(picks), matched, taken, matching, p95)

    # --- the triage queue -------------------------------------------------------------------------------

    def queue(self, limit: int = 1000) -> pd.DataFrame:
        """Candidates waiting for a reviewer, in sample order."""
        return queries.run("eval_queue", db=self.store, limit=limit)

    def progress(self) -> Progress:
        """How far the reviewers are through the current queue."""
        row = queries.run("eval_progress", db=self.store).iloc[0]
        return Progress(int(row["sampled"]), int(row["reviewed"] or 0), int(row["waiting"] or 0))

    def get(self, case_id: int) -> EvalCase | None:
        """One eval case."""
        with self.store.control.connect() as connection:
            row = connection.execute(sa.select(eval_cases).where(eval_cases.c.id == case_id)).mappings().first()
        return None if row is None else _case(row)

    def cases_of_call(self, call_id: str) -> list[EvalCase]:
        """Every eval case of a call (waiting, rejected, or in a dataset), oldest first."""
        stmt = sa.select(eval_cases).where(eval_cases.c.call_id == call_id).order_by(eval_cases.c.id)
        with self.store.control.connect() as connection:
            return [_case(row) for row in connection.execute(stmt).mappings()]

    def open_call(self, call_id: str, *, now: datetime | None = None) -> EvalCase:
        """The case to triage for a call picked by hand: its waiting candidate, else a new one ("manual")."""
        waiting = [c for c in self.cases_of_call(call_id) if c.status == "candidate"]
        if waiting:
            return waiting[0]
        if self.store.get_call(call_id) is None:
            raise EvalError(f"no call with id {call_id!r} in this store")
        when = now or clock.now()
        reasons = [rules.Reason("manual", "added from the call view").as_json()]
        with self.store.control.begin() as connection:
            result = connection.execute(
                eval_cases.insert().values(
                    call_id=call_id, status="candidate", reasons=reasons, created_at=when, updated_at=when
                )
            )
            case_id = _inserted_id(result)
        case = self.get(case_id)
        assert case is not None
        return case

    def accept(
        self,
        case_id: int,
        *,
        dataset: str,
        reviewer: str,
        expected_output: str | None,
        labels: str | Iterable[str] | None = None,
        notes: str | None = None,
        verdict: Verdict | None = None,
        now: datetime | None = None,
    ) -> Undo:
        """Put a case into ``dataset`` (created by its first case) with the reviewer's expected output."""
        name, who = _name(dataset, "dataset"), _name(reviewer, "reviewer")
        case = self._existing(case_id)
        clash = [c for c in self.cases_of_call(case.call_id) if c.dataset == name and c.id != case.id]
        if clash or (case.status == "accepted" and case.dataset == name):
            raise EvalError(f"call {case.call_id} is already in dataset {name!r}")
        when = now or clock.now()
        values = {"dataset": name, "status": "accepted", "expected_output": expected_output,
                  "label": format_labels(parse_labels(labels)), "notes": notes or None, "reviewer": who,
                  "reviewed_at": when, "reject_reason": None, "updated_at": when}  # fmt: skip
        with self.store.control.begin() as connection:
            if case.status == "candidate":
                connection.execute(eval_cases.update().where(eval_cases.c.id == case.id).values(**values))
                target, before = case.id, case
            else:  # reviewed before: the call goes into one more dataset, as a case of its own
                reasons = [r.as_json() for r in case.reasons]
                insert = eval_cases.insert().values(call_id=case.call_id, reasons=reasons, created_at=when, **values)
                target, before = _inserted_id(connection.execute(insert)), None
        return Undo("accept", target, before, self._feedback(case.call_id, verdict, who, notes, when))

    def reject(
        self,
        case_id: int,
        *,
        reviewer: str,
        reason: str,
        notes: str | None = None,
        verdict: Verdict | None = None,
        now: datetime | None = None,
    ) -> Undo:
        """Take a waiting case out of the queue, saying why."""
        who, why = _name(reviewer, "reviewer"), _name(reason, "reason to reject")
        case = self._existing(case_id)
        if case.status != "candidate":
            raise EvalError(f"case {case_id} was already {case.status} by {case.reviewer or 'someone'}")
        when = now or clock.now()
        with self.store.control.begin() as connection:
            connection.execute(
                eval_cases.update()
                .where(eval_cases.c.id == case.id)
                .values(
                    status="rejected",
                    reject_reason=why,
                    notes=notes or None,
                    reviewer=who,
                    reviewed_at=when,
                    updated_at=when,
                )
            )
        return Undo("reject", case.id, case, self._feedback(case.call_id, verdict, who, notes, when))

    def undo(self, action: Undo) -> None:
        """Take back one accept or reject: the case returns to how it was, the reviewer's feedback goes."""
        with self.store.control.begin() as connection:
            if action.before is None:
                connection.execute(eval_cases.delete().where(eval_cases.c.id == action.case_id))
            elif action.action != "skip":
                connection.execute(
                    eval_cases.update().where(eval_cases.c.id == action.case_id).values(**_row(action.before))
                )
        if action.feedback_id:
            self.store.remove_feedback(action.feedback_id)

    def _existing(self, case_id: int) -> EvalCase:
        case = self.get(case_id)
        if case is None:
            raise EvalError(f"no eval case {case_id}")
        return case

    def _feedback(
        self, call_id: str, verdict: Verdict | None, reviewer: str, comment: str | None, when: datetime
    ) -> str | None:
        """A reviewer's thumbs on the answer lands with the app's feedback (and feeds the thumbs-down rule)."""
        if verdict is None:
            return None
        if verdict not in ("thumbs_up", "thumbs_down"):
            raise EvalError(f"verdict {verdict!r}: expected thumbs_up or thumbs_down")
        item = Feedback(id=new_span_id(), ts=when, value=verdict, call_id=call_id, comment=comment or None,
                        source="reviewer", reviewer=reviewer)  # fmt: skip
        self.store.write_batch(feedback_=[item])
        return item.id

    # --- datasets -----------------------------------------------------------------------------------------

    def datasets(self) -> pd.DataFrame:
        """Every dataset with its number of cases, reviewers and last change."""
        return queries.run("eval_datasets", db=self.store)

    def dataset_cases(self, dataset: str) -> list[DatasetCase]:
        """The accepted cases of a dataset with the input and answer of their calls, oldest case first."""
        stmt = (
            sa.select(eval_cases)
            .where(eval_cases.c.dataset == dataset, eval_cases.c.status == "accepted")
            .order_by(eval_cases.c.id)
        )
        with self.store.control.connect() as connection:
            cases = [_case(row) for row in connection.execute(stmt).mappings()]
        with self.store.engine.connect() as connection:  # the calls: in the store (on ClickHouse, not the control)
            calls = _calls(connection, [c.call_id for c in cases])
        return [_dataset_case(case, calls[case.call_id]) for case in cases if case.call_id in calls]

    def require_dataset(self, dataset: str) -> list[DatasetCase]:
        """The cases of a dataset that exists (an unknown name is an error naming the known ones)."""
        cases = self.dataset_cases(dataset)
        if not cases:
            known = ", ".join(self.datasets()["dataset"]) or "none yet"
            raise EvalError(f"no dataset {dataset!r} (datasets: {known})")
        return cases

    def update_case(
        self,
        case_id: int,
        *,
        expected_output: str | None,
        labels: str | Iterable[str] | None,
        notes: str | None,
        now: datetime | None = None,
    ) -> None:
        """Edit a case's expected output, labels and notes."""
        self._existing(case_id)
        with self.store.control.begin() as connection:
            connection.execute(
                eval_cases.update()
                .where(eval_cases.c.id == case_id)
                .values(
                    expected_output=expected_output,
                    label=format_labels(parse_labels(labels)),
                    notes=notes or None,
                    updated_at=now or clock.now(),
                )
            )

    def remove_cases(self, case_ids: Sequence[int]) -> int:
        """Delete cases from their dataset (the calls stay; a removed call may be sampled again)."""
        if not case_ids:
            return 0
        with self.store.control.begin() as connection:
            return int(connection.execute(eval_cases.delete().where(eval_cases.c.id.in_(list(case_ids)))).rowcount)

    def dedupe(self, dataset: str) -> list[int]:
        """Keep each input once in ``dataset``; returns the ids of the cases removed."""
        extra = duplicates(self.dataset_cases(dataset))
        self.remove_cases(extra)
        return extra

    def export(self, dataset: str, fmt: str) -> str:
        """The dataset as JSONL or CSV text."""
        if fmt not in export.FORMATS:
            raise EvalError(f"unknown format {fmt!r}; formats are {', '.join(export.FORMATS)}")
        return export.render(self.require_dataset(dataset), fmt)


def _inserted_id(result: sa.CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _name(value: str | None, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise EvalError(f"a {what} is needed")
    return text


def _pool_call(row: Mapping[Any, Any]) -> rules.PoolCall:
    def value(key: str) -> Any:
        v = row.get(key)
        return None if v is None or (isinstance(v, float) and v != v) else v

    return rules.PoolCall(
        id=str(row["id"]), ts=row["ts"], feature=value("feature"), latency_ms=value("latency_ms"),
        cost_usd=value("cost_usd"), is_refusal=bool(value("is_refusal")), status=str(value("status") or "ok"),
        error_type=value("error_type"), user_feedback=value("user_feedback"),
    )  # fmt: skip


def _case(row: sa.RowMapping) -> EvalCase:
    return EvalCase(
        id=int(row["id"]),
        call_id=row["call_id"],
        status=row["status"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        dataset=row["dataset"],
        reasons=tuple(rules.Reason.from_json(r) for r in row["reasons"] or ()),
        expected_output=row["expected_output"],
        labels=parse_labels(row["label"]),
        notes=row["notes"],
        reviewer=row["reviewer"],
        reviewed_at=row["reviewed_at"],
        reject_reason=row["reject_reason"],
    )


def _row(case: EvalCase) -> dict[str, Any]:
    """The columns of a case as stored (for undo)."""
    return {
        "call_id": case.call_id, "status": case.status, "created_at": case.created_at,
        "updated_at": case.updated_at, "dataset": case.dataset, "reasons": [r.as_json() for r in case.reasons],
        "expected_output": case.expected_output, "label": format_labels(case.labels), "notes": case.notes,
        "reviewer": case.reviewer, "reviewed_at": case.reviewed_at, "reject_reason": case.reject_reason,
    }  # fmt: skip


def _calls(connection: sa.Connection, call_ids: Sequence[str]) -> dict[str, LLMCall]:
    found: dict[str, LLMCall] = {}
    for start in range(0, len(call_ids), CHUNK):
        stmt = select_calls_with_content().where(llm_calls.c.id.in_(list(call_ids[start : start + CHUNK])))
        for row in connection.execute(stmt).mappings():
            found[row["id"]] = rows.call_from_row(row, with_content=True)
    return found


def _dataset_case(case: EvalCase, call: LLMCall) -> DatasetCase:
    content = call.content
    return DatasetCase(
        case=case,
        input=input_messages(call),
        tools=content.tools if content else None,
        original_output=content.output_text if content else None,
        model=call.model,
        params=call.params,
        feature=call.feature,
        prompt_version=call.prompt_version,
    )

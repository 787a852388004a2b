"""Eval curation: sample the calls that went wrong, triage them into labelled datasets, export them.

``rules`` decides which calls are candidates (pure), ``cases`` holds the values and the pure work on them,
``export`` turns a dataset into JSONL or CSV (pure), and ``store.Evals`` does all of it against a store.
"""

from obs.evals.cases import DatasetCase, EvalCase, Undo
from obs.evals.export import ExportedCase, read_jsonl
from obs.evals.rules import RULES, Reason, RuleError, Settings
from obs.evals.store import EvalError, Evals, Progress, SampleResult

__all__ = [
    "RULES",
    "DatasetCase",
    "EvalCase",
    "EvalError",
    "Evals",
    "ExportedCase",
    "Progress",
    "Reason",
    "RuleError",
    "SampleResult",
    "Settings",
    "Undo",
    "read_jsonl",
]

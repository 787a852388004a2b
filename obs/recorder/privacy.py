"""The writer's privacy step: the current policies (from the policy file, reloaded when it changes) applied to
each batch before it is encoded or spooled. Runs in the writer thread, never on the caller's."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from obs import config
from obs.privacy import redact
from obs.privacy.feedback import Lookup, Subjects
from obs.privacy.policy import Policies, Policy, PolicyError, load

log = logging.getLogger("obs")

#: What is stored when the policy file cannot be read and no good version was seen: no content (fail closed).
FAIL_CLOSED = Policies(default=Policy(mode="metadata_only"))


class PrivacyStep:
    """Applies the policies to records. ``policies`` fixes them; otherwise the policy file decides."""

    def __init__(self, policies: Policies | None = None, path: Path | None = None) -> None:
        self._fixed = policies
        self._path = path
        self._policies = policies or Policies()
        self._mtime: float | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        #: The features of the calls and traces feedback is about (its comment follows their policy).
        self.subjects = Subjects()
        if policies is None:
            self._reload()

    @property
    def path(self) -> Path:
        return self._path or config.privacy_file()

    def policies(self) -> Policies:
        """The policies in force (re-reading the file at most every PRIVACY_RELOAD_S seconds)."""
        if self._fixed is None and time.monotonic() - self._checked > config.PRIVACY_RELOAD_S:
            self._reload()
        return self._policies

    def _reload(self) -> None:
        with self._lock:
            self._checked = time.monotonic()
            path = self.path
            try:
                mtime = path.stat().st_mtime
            except OSError:
                if self._mtime is not None:
                    log.warning("obs: policy file %s is gone; storing content in full again", path)
                self._policies, self._mtime = Policies(), None
                return
            if mtime == self._mtime:
                return
            try:
                self._policies = load(path)
            except PolicyError as exc:
                # Keep the last good policies; with none, store no content rather than content nobody vetted.
                log.error(
                    "obs: %s; %s", exc, "keeping the previous policies" if self._mtime else "storing metadata only"
                )
                if self._mtime is None:
                    self._policies = FAIL_CLOSED
            self._mtime = mtime

    def apply(self, records: Sequence[Any], *, analyze: bool = True, lookup: Lookup | None = None) -> list[Any]:
        """The records as the policies allow them to be stored (unchanged when every policy is ``full``).

        ``analyze=False`` (records spooled from the caller's thread under backpressure, or at exit within the exit
        budget): no time for the analyzer, so calls that should be redacted keep their metadata only (and
        feedback comments are not stored). ``lookup``: finds the features of stored calls and traces that
        feedback in ``records`` is about (see ``obs.privacy.feedback``)."""
        policies = self.policies()
        if policies.is_noop:
            return list(records)
        try:
            records = self.subjects.resolve(records, policies, lookup)
        except Exception as exc:  # pragma: no cover - comments then follow the feature of their trace context
            log.error("obs: could not find what feedback is about (%s)", exc)
        key = config.hash_key()
        if not analyze:
            return redact.apply(records, _without_redaction(policies), _no_find, key)
        try:
            return redact.apply(records, policies, _find if policies.redacts else _no_find, key)
        except Exception as exc:
            # Never store what should have been redacted: content of redacted features is dropped instead.
            log.error("obs: redaction failed (%s); storing metadata only for the calls it covers", exc)
            return redact.apply(records, _without_redaction(policies), _no_find, key)


def _find(texts: Sequence[str], policy: Policy) -> list[list[redact.Finding]]:
    from obs.privacy.analyzer import default_analyzer

    return default_analyzer().find(texts, policy)


def _no_find(texts: Sequence[str], policy: Policy) -> list[list[redact.Finding]]:
    return [[] for _ in texts]


def _without_redaction(policies: Policies) -> Policies:
    def safe(p: Policy) -> Policy:
        return replace(p, mode="metadata_only") if p.redacts else p

    return replace(policies, default=safe(policies.default),
                   features={k: safe(v) for k, v in policies.features.items()})  # fmt: skip

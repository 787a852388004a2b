"""The on-disk spool: records the database could not take yet, as JSON lines, replayed when it is back.

Each process appends to its own ``<pid>-<n>.jsonl.part``; a file is sealed (renamed to ``.jsonl``) before it is
replayed, at exit, or when it grows large. A replayer claims a sealed file by renaming it, writes its records
(ids are primary keys, so a record already stored is skipped: never a duplicate) and deletes it. Files left by a
process that died are sealed by the next one.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from obs import config
from obs.records import CallContent, Feedback, LLMCall, Span
from obs.serialize import clean_text, to_jsonable

Record = LLMCall | Span | Feedback
_TYPES: dict[str, type[Any]] = {"call": LLMCall, "span": Span, "feedback": Feedback}
_NAMES = {cls: name for name, cls in _TYPES.items()}
_TIME_FIELDS = frozenset({"ts", "start_ts", "end_ts"})


def dumps(record: Record) -> str:
    """One JSON line for a record (content included)."""
    row: dict[str, Any] = {"type": _NAMES[type(record)]}
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, CallContent):
            value = {k: to_jsonable(getattr(value, k)) for k in CallContent.__slots__}
        elif f.name in {"input", "output", "metadata", "params", "tags"}:
            value = to_jsonable(value)
        row[f.name] = value
    text = json.dumps(row, ensure_ascii=False, allow_nan=False)
    if not text.isascii() and clean_text(text) is not text:  # a lone surrogate: kept, as a JSON escape
        text = json.dumps(row, ensure_ascii=True, allow_nan=False)
    return text


def loads(line: str) -> Record:
    """The record a line of the spool holds."""
    row = json.loads(line)
    cls = _TYPES[row.pop("type")]
    for name in _TIME_FIELDS & row.keys():
        if row[name] is not None:
            row[name] = datetime.fromisoformat(row[name])
    if row.get("cost_usd") is not None:
        row["cost_usd"] = Decimal(row["cost_usd"])
    if "tags" in row:
        row["tags"] = tuple(row["tags"] or ())
    if row.get("content") is not None:
        row["content"] = CallContent(**row["content"])
    return cls(**row)  # type: ignore[no-any-return]


class Spool:
    """One directory of spool files, shared by every process that writes to the same store."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._part: Path | None = None
        self._seq = 0

    def append(self, records: Sequence[Record]) -> int:
        """Append records durably enough to survive the process (flushed to the OS); returns how many."""
        if not records:
            return 0
        lines = "".join(dumps(r) + "\n" for r in records)
        with self._lock:
            path = self._current_part()
            with path.open("a", encoding="utf-8") as handle:
                handle.write(lines)
            if path.stat().st_size >= config.SPOOL_FILE_MAX_BYTES:
                self._seal_locked()
        return len(records)

    def seal(self) -> None:
        """Make this process's open file replayable (before a replay, at exit)."""
        with self._lock:
            self._seal_locked()

    def after_fork(self) -> None:
        """A forked child writes its own files, never its parent's."""
        self._lock = threading.Lock()
        self._part = None

    def has_own_part(self) -> bool:
        """Whether this process has an unsealed part file on disk (records it spooled, not yet replayed)."""
        return self._part is not None and self._part.exists()

    def pending(self) -> list[Path]:
        """Sealed files waiting to be replayed, oldest first (seals files of processes that died)."""
        if not self.directory.is_dir():
            return []
        for path in self.directory.glob("*.part"):
            if not _pid_alive(path.name.split("-", 1)[0]):
                _rename(path, path.with_suffix(""))
        for path in self.directory.glob("*.replaying-*"):
            if not _pid_alive(path.name.rsplit("-", 1)[1]):
                _rename(path, path.with_name(path.name.split(".replaying-")[0]))
        return sorted(self.directory.glob("*.jsonl"), key=_age)

    def replay(self, write: Callable[[list[Record]], Any], batch: int = config.BATCH_MAX) -> Iterator[int]:
        """Write every sealed file through ``write`` (one batch at a time); yields records replayed per file.

        A file is deleted only after all its records were written; if ``write`` raises, the file goes back
        and the exception propagates (the database is still down).
        """
        self.seal()
        for path in self.pending():
            claimed = path.with_name(f"{path.name}.replaying-{os.getpid()}")
            if not _rename(path, claimed):
                continue  # another process took it
            try:
                records = [loads(line) for line in claimed.read_text(encoding="utf-8").splitlines() if line]
                for start in range(0, len(records), batch):
                    write(records[start : start + batch])
            except BaseException:
                _rename(claimed, path)
                raise
            claimed.unlink()
            yield len(records)

    def _current_part(self) -> Path:
        if self._part is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._seq += 1
            stamp = datetime.now().strftime("%Y%m%dT%H%M%S%f")  # noqa: DTZ005 - a file name, not a record
            self._part = self.directory / f"{os.getpid()}-{stamp}-{self._seq}.jsonl.part"
        return self._part

    def _seal_locked(self) -> None:
        if self._part is not None and self._part.exists():
            _rename(self._part, self._part.with_suffix(""))
        self._part = None


def _age(path: Path) -> tuple[float, str]:
    try:
        return path.stat().st_mtime, path.name
    except FileNotFoundError:  # another process claimed it meanwhile
        return 0.0, path.name


def _rename(source: Path, target: Path) -> bool:
    try:
        source.rename(target)
    except FileNotFoundError:
        return False
    return True


def _pid_alive(text: str) -> bool:
    try:
        pid = int(text)
    except ValueError:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

"""Turn anything an app passes to or gets from a provider into JSON the store accepts.

Faithful where JSON can be (pydantic models, dataclasses, datetimes, Decimals), a clear marker where it cannot
(``{"__obs__": "bytes", ...}``, ``"NaN"``, a replaced lone surrogate). Runs in the writer thread, never raises.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import enum
import json
import math
import re
import uuid
from collections.abc import Mapping
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from obs import config

_MAX_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")  # in a Python str every surrogate code point is a lone one


def to_jsonable(value: Any) -> Any:
    """A JSON-safe copy of ``value``; unknown objects become a marker with their type and repr."""
    return _convert(value, 0, set())


class RawJson(str):
    """JSON text that is stored as it is (a provider object dumped by pydantic in Rust: no Python containers
    are built, which spares the writer most of its garbage-collection work)."""

    __slots__ = ()


class PlainJson(list[Any]):
    """A list parsed from JSON by orjson (so only JSON types, no NaN): stored with orjson, unchecked."""

    __slots__ = ()


#: A provider object dumped as the JSON it came from (what the SDK's ``to_json`` gives): wire names, not Python
#: ones (``"async"``, not ``"async_"``), and only the fields that were there, not every default.
_WIRE: dict[str, Any] = {"by_alias": True, "exclude_unset": True, "warnings": False}


def json_ready(value: Any) -> Any:
    """A provider object (or a list of them) as RawJson; anything else as ``plain`` gives it."""
    dump_json = getattr(value, "model_dump_json", None)
    if callable(dump_json) and not isinstance(value, type):
        try:
            return RawJson(dump_json(**_WIRE))
        except Exception:
            return to_jsonable(value)
    if isinstance(value, list) and value and all(callable(getattr(v, "model_dump_json", None)) for v in value):
        try:
            return RawJson("[" + ",".join(v.model_dump_json(**_WIRE) for v in value) + "]")
        except Exception:
            return to_jsonable(value)
    return plain(value)


def plain(value: Any) -> Any:
    """Provider objects (pydantic models, lists of them) as plain JSON-ready values; anything else as it is.

    Cheap (pydantic dumps in Rust); the store's JSON encoder falls back to ``to_jsonable`` for the rest.
    """
    if isinstance(value, list):
        return [plain(v) for v in value]
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump) and not isinstance(value, type):
        try:
            return model_dump(mode="json", **_WIRE)
        except Exception:
            return to_jsonable(value)
    return value


def snapshot(value: Any) -> Any:
    """A cheap copy of the containers in ``value`` (strings and other leaves are shared).

    Runs on the caller's thread: it only copies dicts, lists and tuples, so a caller that mutates its messages
    after the call cannot change what was recorded.
    """
    if isinstance(value, dict):
        return {k: snapshot(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [snapshot(v) for v in value]
    return value


def _convert(value: Any, depth: int, seen: set[int]) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, RawJson):
        return _convert(json.loads(value), depth, seen)
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else ("NaN" if math.isnan(value) else repr(value))
    if depth > _MAX_DEPTH:
        return {"__obs__": "too_deep"}
    if isinstance(value, Mapping | list | tuple | set | frozenset) or dataclasses.is_dataclass(value):
        if id(value) in seen:
            return {"__obs__": "cycle"}
        seen.add(id(value))
        try:
            return _container(value, depth, seen)
        finally:
            seen.discard(id(value))
    return _leaf(value, depth, seen)


def _container(value: Any, depth: int, seen: set[int]) -> Any:
    if isinstance(value, Mapping):
        return {clean_text(str(k)): _convert(v, depth + 1, seen) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _convert(getattr(value, f.name), depth + 1, seen) for f in dataclasses.fields(value)}
    return [_convert(v, depth + 1, seen) for v in value]


def _leaf(value: Any, depth: int, seen: set[int]) -> Any:
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump) and not isinstance(value, type):  # pydantic v2 models (openai types included)
        try:
            return _convert(model_dump(mode="json", by_alias=True, warnings=False), depth + 1, seen)
        except Exception:
            pass
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        if len(raw) <= config.MAX_INLINE_BYTES:
            return {"__obs__": "bytes", "length": len(raw), "base64": base64.b64encode(raw).decode()}
        return {"__obs__": "bytes", "length": len(raw), "omitted": True}
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return _convert(value.value, depth + 1, seen)
    if isinstance(value, uuid.UUID | PurePath):
        return str(value)
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    try:
        text = repr(value)
    except Exception:
        text = "<unrepresentable>"
    return {"__obs__": "object", "type": type(value).__qualname__, "repr": clean_text(text[:2000])}


def clean_text(text: str) -> str:
    """The string with lone surrogates (which UTF-8 cannot encode) replaced by U+FFFD."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text

"""OTLP attribute values as Python values: ``AnyValue`` to str / int / float / bool / list / dict / bytes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any


def value(v: Any) -> Any:
    """One ``AnyValue``."""
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [value(item) for item in v.array_value.values]
    if kind == "kvlist_value":
        return attributes(v.kvlist_value.values)
    return getattr(v, kind)


def attributes(pairs: Iterable[Any]) -> dict[str, Any]:
    """A ``repeated KeyValue`` as a dict (a key given twice: the last one wins, as the SDKs do)."""
    return {pair.key: value(pair.value) for pair in pairs}


def json_value(raw: Any) -> Any:
    """An attribute that carries JSON as a string (``gen_ai.input.messages``, ``input.value``): parsed when it is
    JSON, kept as the string it is otherwise."""
    if isinstance(raw, str) and raw[:1] in "[{":
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def indexed(attrs: Mapping[str, Any], prefix: str) -> list[dict[str, Any]]:
    """Flattened lists as objects: ``prefix.0.role``, ``prefix.0.content``, ``prefix.1.role`` ... become
    ``[{"role": ..., "content": ...}, {"role": ...}]`` (nested indexes, ``tool_calls.0.name``, become nested lists)."""
    items: dict[int, dict[str, Any]] = {}
    start = prefix + "."
    for key, v in attrs.items():
        if not key.startswith(start):
            continue
        head, _, rest = key[len(start) :].partition(".")
        if not head.isdigit() or not rest:
            continue
        _put(items.setdefault(int(head), {}), rest.split("."), v)
    return [_lists(items[i]) for i in sorted(items)]


def _put(target: dict[str, Any], path: list[str], v: Any) -> None:
    for part in path[:-1]:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            return
    target[path[-1]] = v


def _lists(node: Any) -> Any:
    """Dicts whose keys are all indexes become lists, in index order."""
    if not isinstance(node, dict):
        return node
    converted = {k: _lists(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted

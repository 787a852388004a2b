"""Server-sent events as the provider APIs stream them (OpenAI's chat and Responses APIs, Anthropic's Messages
API): complete events cut from bytes that arrive in pieces of any size, and the JSON object each event's data
holds. Pure code; the proxy relays the bytes and the writer reads them here.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

#: An event ends at a blank line; the spec allows each of the three line endings.
_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")
_DONE = b"[DONE]"


class Events:
    """Cuts a byte stream into whole events, each with the blank line that ends it (bytes are never changed)."""

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> list[bytes]:
        """The events ``data`` completes (the rest waits for the next piece)."""
        buffer = self._pending + data if self._pending else data
        events, start = [], 0
        for end in _END.finditer(buffer):
            events.append(buffer[start : end.end()])
            start = end.end()
        self._pending = buffer[start:]
        return events

    def rest(self) -> bytes:
        """What arrived after the last complete event (a stream cut short)."""
        return self._pending


def data(event: bytes) -> bytes:
    """An event's data: its ``data:`` lines, joined by newlines (empty when it has none)."""
    lines = [line[5:].removeprefix(b" ") for line in event.splitlines() if line.startswith(b"data:")]
    return b"\n".join(lines)


def parsed(event: bytes) -> dict[str, Any] | None:
    """The JSON object an event carries; None for ``[DONE]``, comments, and data that is not a JSON object."""
    body = data(event)
    if not body or body == _DONE:
        return None
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def objects(stream: bytes) -> list[dict[str, Any]]:
    """Every JSON object of a stream, in order (a last event cut short is read too, when it parses)."""
    events = Events()
    found = [parsed(event) for event in events.feed(stream)]
    if events.rest().strip():
        found.append(parsed(events.rest()))
    return [value for value in found if value is not None]

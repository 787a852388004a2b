"""``obs.wrap(OpenAI())``: record every call an OpenAI client makes without changing what it returns or raises.

Which methods are wrapped is data (``METHODS``); ``obs.capture.stainless`` wraps them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from obs.capture import stainless
from obs.capture.events import CallEvent
from obs.capture.stainless import MethodDef

C = TypeVar("C")

METHODS = (
    MethodDef(("chat", "completions"), "create", "chat"),
    MethodDef(("chat", "completions"), "parse", "chat"),
    MethodDef(("responses",), "create", "responses"),
    MethodDef(("responses",), "parse", "responses"),
    MethodDef(("embeddings",), "create", "embeddings"),
    # client.beta.chat is a Chat resource of its own (LangChain's structured output streams through it).
    MethodDef(("beta", "chat", "completions"), "create", "chat"),
    MethodDef(("beta", "chat", "completions"), "parse", "chat"),
    MethodDef(("beta", "responses"), "create", "responses"),
    MethodDef(("beta", "responses"), "parse", "responses"),
)


def wrap(client: C, enqueue: Callable[[CallEvent], None]) -> C:
    """Record the calls of an OpenAI / AsyncOpenAI / Azure client (the same object is returned)."""
    provider = "azure" if "azure" in type(client).__name__.lower() else "openai"
    return stainless.wrap(client, enqueue, METHODS, provider)

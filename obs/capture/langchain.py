"""LangChain's OpenAI models: ``obs.wrap(ChatOpenAI(...))`` records every call the model makes.

langchain-openai's ``ChatOpenAI``, ``AzureChatOpenAI`` and ``OpenAIEmbeddings`` (and the models of other packages
built on ``BaseChatOpenAI``) build their openai clients when they are constructed, and overwrite a ``root_client``
passed in unless ``client`` is passed too: so obs wraps the clients the model holds, after construction. The
``client`` / ``async_client`` fields are resources (``chat.completions``, ``embeddings``) of those clients; the
client they belong to is wrapped, which wraps the resource in place. langchain is never imported: a model is
recognised by the package its class (or a base class) comes from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import openai

from obs.capture.events import CallEvent
from obs.capture.openai import instrument

M = TypeVar("M")

#: The fields of a langchain-openai model that hold an openai client or a resource of one.
CLIENT_FIELDS = ("root_client", "root_async_client", "client", "async_client")
_PACKAGE = "langchain_openai"


def is_model(candidate: object) -> bool:
    """True for a langchain-openai model (or a subclass of one from another package)."""
    return any(cls.__module__.split(".")[0] == _PACKAGE for cls in type(candidate).__mro__)


def wrap(model: M, enqueue: Callable[[CallEvent], None]) -> M:
    """Record the calls of every openai client ``model`` holds (the same model is returned)."""
    for field in CLIENT_FIELDS:
        client = _openai_client(getattr(model, field, None))
        if client is not None:
            instrument.wrap(client, enqueue)
    return model


def _openai_client(held: Any) -> openai.OpenAI | openai.AsyncOpenAI | None:
    """The client itself, or the client a resource (``client.chat.completions``) belongs to."""
    for candidate in (held, getattr(held, "_client", None)):
        if isinstance(candidate, openai.OpenAI | openai.AsyncOpenAI):
            return candidate
    return None

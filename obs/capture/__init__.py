"""Capture: provider traffic becomes ``CallEvent`` values, one adapter per source (today ``openai``).

Adapters wrap a client (or, later, read a wire format) and hand each finished call to an ``enqueue`` callback;
they never touch the store. ``events`` holds the values every adapter produces, ``context`` carries the trace a
call belongs to, ``refusal`` tells a refusal from an answer, and ``build`` turns an event into an ``LLMCall``
(pure code, reading each provider API with the extractors its adapter provides).
"""

"""The openai Python SDK: which client methods are wrapped (a table of definitions) and the pure extractors
that read its requests, responses and streamed chunks."""

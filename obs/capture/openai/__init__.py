"""The openai Python SDK: which client methods are wrapped (``instrument``, a table of definitions), and the pure
extractors that read its requests (``request``), whole responses (``chat``, ``responses``, ``embeddings``) and
streamed chunks (``streams``)."""

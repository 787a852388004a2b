"""The openai Python SDK: which client methods are wrapped (``instrument``, a table of definitions), the
caller-side recording of a call and its streams (``recording``), and the pure extractors that read its requests
(``request``), whole responses (``chat``, ``responses``, ``embeddings``) and streamed chunks (``streams``)."""

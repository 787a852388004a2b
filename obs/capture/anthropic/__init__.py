"""The anthropic Python SDK: which client methods are wrapped (``instrument``: ``messages.create`` through the
shared Stainless wrapper, and the ``messages.stream()`` helper, which does not call ``create``), and the pure
extractors that read a Messages API request, a whole ``Message`` and its streamed events (``messages``)."""

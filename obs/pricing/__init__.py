"""Prices: what a call cost from its tokens (``prices``: user overrides, then genai-prices' offline snapshot),
and re-costing the calls already stored when prices change (``recost``)."""

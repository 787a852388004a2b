"""Alerts: rules over the store's numbers, pure (``rules``: what a rule is; ``findings``: what it finds), checks and
webhooks (``engine``, ``notify``)."""

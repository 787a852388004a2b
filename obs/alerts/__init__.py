"""Alerts: rules over the store's numbers (pure code in ``rules``), checks and webhooks (``engine``, ``notify``)."""

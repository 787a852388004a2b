"""The `obs` command: ``main`` and one module per command group, all sharing ``options``. Parsing and printing
only; the work is library calls."""

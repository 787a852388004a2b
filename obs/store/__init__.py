"""The store: engines and migrations (``db``), the tables (``schema``), records <-> rows (``rows``), the rollups
the writer keeps current, and the loader of ``sql/`` (``sql``; ``queries`` returns its answers as DataFrames)."""

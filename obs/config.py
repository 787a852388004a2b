"""Every configuration knob of obs, in one place.

Environment variables are read when asked for (not at import), so the SDK, the CLI and the dashboard
all see the same value, and tests can set them per test. Everything else is a named constant.
"""

from __future__ import annotations

import os
from pathlib import Path

# --- read from the environment -------------------------------------------------------------------

#: Where the store lives. Any SQLAlchemy URL: ``sqlite:///path/to/obs.db`` or
#: ``postgresql+psycopg://user:pass@host:5432/db`` (``postgresql://`` is accepted and means psycopg 3).
ENV_DATABASE_URL = "OBS_DATABASE_URL"

#: Optional TOML or JSON file of price overrides ($ per million tokens), which win over genai-prices.
ENV_PRICES_FILE = "OBS_PRICES_FILE"

#: Default store: a SQLite file ``obs.db`` in the working directory, zero set-up.
DEFAULT_DATABASE_URL = "sqlite:///obs.db"

# --- constants -------------------------------------------------------------------------------------

#: How long a SQLite connection waits for another writer before giving up (several processes may share
#: one file; WAL lets readers proceed, writers queue behind this timeout).
SQLITE_BUSY_TIMEOUT_MS = 10_000

#: The ``sql/`` directory holding every query the dashboard and the jobs run.
SQL_DIR = Path(__file__).resolve().parent.parent / "sql"

#: Rows per statement when the store writes a batch (bounded memory, few round trips).
WRITE_CHUNK_ROWS = 1_000


def database_url() -> str:
    """The store URL: OBS_DATABASE_URL, else a SQLite file obs.db in the working directory."""
    return normalize_database_url(os.environ.get(ENV_DATABASE_URL) or DEFAULT_DATABASE_URL)


def prices_file() -> Path | None:
    """The price override file named by OBS_PRICES_FILE, if any."""
    value = os.environ.get(ENV_PRICES_FILE)
    return Path(value) if value else None


def normalize_database_url(url: str) -> str:
    """Map the URL spellings people paste (``postgres://``, ``postgresql://``) to the psycopg 3 driver."""
    url = url.strip()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url

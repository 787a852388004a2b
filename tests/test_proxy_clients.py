"""`obs proxy` as users run it: the real process (`obs proxy`, providers from $OBS_PROVIDERS_FILE) in front of a real
local upstream (tests/proxy_rig.py), reached by clients that are not Python: the openai npm client and curl. What
each client gets is what the upstream sent, every call is recorded (source "proxy") with what its obs-* headers
said, no obs-* header reaches the provider, the client's key reaches it and nothing else (the store, the output).
Beyond loopback it wants its token; a start it refuses (no token, a bad providers file, a taken port) is one
line; SIGTERM lets the stream under way finish, then stops it cleanly.

One proxy process per store dialect serves the client tests (starting `obs` takes seconds); each test tells its
calls apart by their obs-user-id.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa

from obs import config
from obs.records import LLMCall
from obs.store.store import Store
from tests.browser import free_port
from tests.conftest import POSTGRES_URL, SKIP_POSTGRES, reset_postgres
from tests.proxy_rig import Seen, Upstream, tables_holding

OBS = str(Path(sys.executable).parent / "obs")
NODE_DIR = Path(__file__).parent / "otlp_node"
NODE_APP = NODE_DIR / "proxy_app.mjs"
CURL = shutil.which("curl") or "/usr/bin/curl"
KEY = "sk-proj-PLANTED-5f0c1e9a7b3d4c2e"
ANTHROPIC_KEY = "sk-ant-PLANTED-8d2b6a4f1c9e7053"
BANNER = "obs proxy on http://"
TOKEN = "tok-3c1f9e"
#: The proxy's read timeout in these tests ($OBS_PROXY_TIMEOUT_S); the upstream holds `fail-timeout` for 5 s.
TIMEOUT_S = 1
MESSAGES = [{"role": "system", "content": "You are a terse assistant."},
            {"role": "user", "content": "What is the capital of France?"}]  # fmt: skip
#: Variables of the test run that would change what the proxy does (and PYTHONUNBUFFERED: its output goes to a
#: pipe, as under a supervisor, and must still come line by line).
_OURS = ("OBS_PROXY_TOKEN", "OBS_PROXY_TIMEOUT_S", "OBS_PROVIDERS_FILE", "OBS_DATABASE_URL", "OBS_SPOOL_DIR",
         "PYTHONUNBUFFERED")  # fmt: skip

needs_node = pytest.mark.skipif(not (shutil.which("node") and (NODE_DIR / "node_modules" / "openai").is_dir()),
                                reason="needs node and `npm ci` in tests/otlp_node (make test)")  # fmt: skip
needs_curl = pytest.mark.skipif(not os.access(CURL, os.X_OK), reason="needs curl")


# --- the process ------------------------------------------------------------------------------------------------


@dataclass
class Running:
    """One `obs proxy` process: its address, its store and everything it printed (read as it comes)."""

    proc: subprocess.Popen[str]
    port: int
    db_url: str
    spool: Path
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)
    readers: list[threading.Thread] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return "".join(self.out) + "".join(self.err)

    def stop(self) -> int:
        """SIGTERM it, wait for it to end; its exit status (all its output is read by then)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait()

    def wait(self) -> int:
        """Wait for it to end (it was told to); its exit status, once all its output is read. A second signal
        is not sent: after "Stopped." the process takes a moment to exit, and a signal then kills it."""
        try:
            code = self.proc.wait(timeout=30)
        finally:
            self.kill()
        for reader in self.readers:
            reader.join(10)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def proxy_env(providers: Path | None, spool: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _OURS}
    if providers is not None:
        env[config.ENV_PROVIDERS_FILE] = str(providers)
    return {**env, "OBS_SPOOL_DIR": str(spool), **extra}


def providers_file(upstream: Upstream, where: Path) -> Path:
    """`openai` and `anthropic` pointed at the local upstream, as a user overrides them."""
    path = where / "providers.toml"
    path.write_text(f'[providers.openai]\nbase_url = "{upstream.url}/v1"\n\n'
                    f'[providers.anthropic]\nbase_url = "{upstream.url}"\napi = "anthropic"\n')  # fmt: skip
    return path


def launch(args: Sequence[str], env: dict[str, str], db_url: str, spool: Path, port: int) -> Running:
    proc = subprocess.Popen([OBS, "proxy", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)  # fmt: skip
    running = Running(proc, port, db_url, spool)
    for stream, into in ((proc.stdout, running.out), (proc.stderr, running.err)):
        assert stream is not None
        reader = threading.Thread(target=lambda s=stream, i=into: i.extend(iter(s.readline, "")), daemon=True)
        reader.start()
        running.readers.append(reader)
    return running


def start(upstream: Upstream, db_url: str, where: Path, *, host: str = "127.0.0.1", **env: str) -> Running:
    """`obs proxy` on a free port, once it said where it listens and takes connections."""
    spool = where / "spool"
    port = free_port()
    running = launch(["--host", host, "--port", str(port), "--database-url", db_url],
                     proxy_env(providers_file(upstream, where), spool, **env), db_url, spool, port)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not any(BANNER in line for line in running.out):
            assert running.proc.poll() is None, f"obs proxy exited ({running.proc.returncode}): {running.output()}"
            assert time.monotonic() < deadline, f"obs proxy did not start: {running.output()}"
            time.sleep(0.05)
        assert running.out[0].startswith(f"obs proxy on http://{host}:{port}/v1 "), running.out
        try:  # it says so once it listens: a client that read the line can connect
            httpx2.get(f"{running.url}/", timeout=5)
        except httpx2.TransportError as exc:
            raise AssertionError(f"the banner came before the proxy took connections: {exc!r}") from None
    except BaseException:
        running.kill()
        raise
    return running


# --- the store --------------------------------------------------------------------------------------------------


def calls_of(running: Running, user: str, expected: int) -> list[LLMCall]:
    """The calls recorded for ``user``, oldest first, once there are ``expected`` of them (the writer is
    asynchronous); exactly that many."""
    store = Store(running.db_url)
    try:
        deadline = time.monotonic() + 20
        while True:
            with store.engine.connect() as conn:
                ids = conn.execute(sa.text("SELECT id FROM llm_calls WHERE user_id = :u"), {"u": user}).scalars().all()
            if len(ids) >= expected or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        found = [store.get_call(i) for i in ids]
    finally:
        store.close()
    calls = sorted((c for c in found if c is not None), key=lambda c: c.ts)
    assert len(calls) == expected, calls
    return calls


def new_user(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:8]}"


def curl(*args: str) -> bytes:
    done = subprocess.run([CURL, "-sS", "--max-time", "20", *args], capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout


def events(stream: bytes) -> list[Any]:
    """The JSON of each ``data:`` event of an SSE body ([DONE] left out)."""
    found = []
    for event in stream.split(b"\n\n"):
        for line in event.split(b"\n"):
            if line.startswith(b"data: ") and line != b"data: [DONE]":
                found.append(json.loads(line[len(b"data: ") :]))
    return found


def body_sent(upstream: Upstream, index: int) -> bytes:
    """The ``index``-th body the upstream sent, once it noted it: it does so after the body's last byte went out,
    so the client can have it a moment before."""
    deadline = time.monotonic() + 5
    while len(upstream.sent) <= index:
        assert time.monotonic() < deadline, f"the upstream noted no body #{index}"
        time.sleep(0.01)
    return upstream.sent[index]


def no_obs_headers(seen: Sequence[Seen]) -> None:
    for request in seen:
        ours = [h for h in request.headers if h.startswith("obs-") or h in ("traceparent", "tracestate")]
        assert not ours, (request.path, ours)


# --- fixtures ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    yield server
    server.close()


class Shared:
    """A proxy several tests share (starting `obs` takes seconds), started when a test first wants it, and again
    after a test stopped it."""

    def __init__(self, upstream: Upstream, db_url: str, where: Path, dialect: str, *, host: str = "127.0.0.1",
                 **env: str) -> None:  # fmt: skip
        self.upstream, self.db_url, self.where, self.dialect = upstream, db_url, where, dialect
        self.host, self.env = host, env
        self.running: Running | None = None
        self.runs = 0

    def get(self) -> Running:
        if self.running is None or self.running.proc.poll() is not None:
            self.runs += 1
            where = self.where / f"run{self.runs}"
            where.mkdir()
            self.running = start(self.upstream, self.db_url, where, host=self.host, **self.env)
        return self.running

    def close(self) -> None:
        if self.running is not None:
            self.running.kill()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def proxies(request: pytest.FixtureRequest, upstream: Upstream,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:  # fmt: skip
    """One store of each dialect, fresh for this module (PostgreSQL: the throwaway test database, emptied)."""
    where = tmp_path_factory.mktemp(f"proxy-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{where / 'obs.db'}"
    else:
        if not POSTGRES_URL:
            pytest.skip(SKIP_POSTGRES)
        reset_postgres(POSTGRES_URL)
        url = POSTGRES_URL
    shared = Shared(upstream, url, where, request.param, OBS_PROXY_TIMEOUT_S=str(TIMEOUT_S))
    yield shared
    shared.close()


@pytest.fixture
def proxy(proxies: Shared) -> Running:
    return proxies.get()


@pytest.fixture(scope="module")
def guarded(upstream: Upstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    """A proxy on every interface, with its token (SQLite: what it checks does not depend on the store)."""
    where = tmp_path_factory.mktemp("proxy-guarded")
    shared = Shared(upstream, f"sqlite:///{where / 'obs.db'}", where, "sqlite", host="0.0.0.0", OBS_PROXY_TOKEN=TOKEN)
    yield shared
    shared.close()


# --- clients ----------------------------------------------------------------------------------------------------


@needs_node
def test_the_openai_npm_client_through_the_proxy(proxy: Running, upstream: Upstream) -> None:
    user, feature = new_user("node"), "faq"
    seen, sent = len(upstream.seen), len(upstream.sent)
    env = {**os.environ, "OBS_PROXY_BASE_URL": f"{proxy.url}/v1", "OPENAI_API_KEY": KEY, "OBS_USER_ID": user,
           "OBS_FEATURE": feature}  # fmt: skip
    done = subprocess.run(["node", str(NODE_APP)], cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["chat"] == json.loads(body_sent(upstream, sent))  # the completion as the upstream sent it
    upstream_chunks = events(body_sent(upstream, sent + 1))
    assert len(upstream.sent) == sent + 2
    usage_only = [c for c in upstream_chunks if not c["choices"] and c.get("usage")]
    assert len(usage_only) == 1  # the proxy asked for the usage the client did not ...
    assert got["stream"] == [c for c in upstream_chunks if c not in usage_only]  # ... and kept it from the client
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in got["stream"])
    assert text.startswith("Echo: What is the capital of France?")
    requests = upstream.seen[seen:]
    assert [r.path for r in requests] == ["/v1/chat/completions"] * 2
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in requests)
    no_obs_headers(requests)
    assert json.loads(requests[1].body)["stream_options"] == {"include_usage": True}

    chat, streamed = calls_of(proxy, user, 2)
    for call in (chat, streamed):
        assert (call.source, call.provider, call.model, call.status) == ("proxy", "openai", "gpt-4o-mini", "ok")
        assert (call.user_id, call.feature) == (user, feature)
        assert call.prompt_tokens and call.completion_tokens and call.cost_usd is not None and call.cost_usd > 0
        assert call.content is not None and call.content.system_prompt == MESSAGES[0]["content"]
    assert chat.stream is False and chat.temperature == 0.2 and chat.latency_ms is not None
    assert chat.prompt_tokens == got["chat"]["usage"]["prompt_tokens"]
    assert chat.content is not None and chat.content.output_text == got["chat"]["choices"][0]["message"]["content"]
    assert streamed.stream and streamed.latency_ms_first_token is not None and streamed.latency_ms is not None
    assert streamed.latency_ms_first_token <= streamed.latency_ms
    assert streamed.prompt_tokens == usage_only[0]["usage"]["prompt_tokens"]
    assert streamed.content is not None and streamed.content.output_text == text


@needs_curl
def test_curl_whole_and_streamed(proxy: Running, upstream: Upstream) -> None:
    user = new_user("curl")
    auth = f"Authorization: Bearer {KEY}"
    seen, sent = len(upstream.seen), len(upstream.sent)
    whole = curl(f"{proxy.url}/v1/chat/completions", "-H", auth, "-H", f"obs-user-id: {user}",
                 "-H", "obs-metadata-team: search", "-H", "Content-Type: application/json",
                 "-d", json.dumps({"model": "gpt-4o-mini", "messages": MESSAGES}))  # fmt: skip
    assert whole == body_sent(upstream, sent)
    asked = {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}}
    streamed = curl("-N", f"{proxy.url}/v1/chat/completions", "-H", auth, "-H", f"obs-user-id: {user}",
                    "-H", "Content-Type: application/json", "-d", json.dumps(asked))  # fmt: skip
    assert streamed == body_sent(upstream, sent + 1)  # byte for byte, unchanged
    assert streamed.endswith(b"data: [DONE]\n\n")
    requests = upstream.seen[seen:]
    assert json.loads(requests[1].body) == asked  # what curl sent, as it sent it
    plain = {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True}
    hidden = curl("-N", f"{proxy.url}/v1/chat/completions", "-H", auth, "-H", f"obs-user-id: {user}",
                  "-H", "Content-Type: application/json", "-d", json.dumps(plain))  # fmt: skip
    original = body_sent(upstream, sent + 2)
    usage_event = [e + b"\n\n" for e in original.split(b"\n\n") if b'"choices":[]' in e.replace(b" ", b"")]
    assert len(usage_event) == 1  # the usage the proxy asked for reached it ...
    assert hidden == original.replace(usage_event[0], b"")  # ... and all but that reached curl
    requests = upstream.seen[seen:]
    assert len(requests) == 3 and all(r.headers["authorization"] == f"Bearer {KEY}" for r in requests)
    no_obs_headers(requests)

    first, second, third = calls_of(proxy, user, 3)
    answer = json.loads(whole)
    assert (first.source, first.provider, first.stream) == ("proxy", "openai", False)
    assert first.metadata == {"team": "search"}
    assert first.prompt_tokens == answer["usage"]["prompt_tokens"] and first.cost_usd is not None
    assert first.content is not None and first.content.output_text == answer["choices"][0]["message"]["content"]
    for call in (second, third):
        assert call.source == "proxy" and call.stream and call.latency_ms_first_token is not None
        assert call.prompt_tokens and call.completion_tokens and call.cost_usd is not None
        assert call.content is not None and call.content.output_text
        assert call.content.output_text.startswith("Echo: What is the capital")
    assert third.params is not None and "stream_options" not in third.params  # stored as curl sent it


@needs_curl
def test_anthropic_messages_with_curl(proxy: Running, upstream: Upstream) -> None:
    user = new_user("claude")
    seen, sent = len(upstream.seen), len(upstream.sent)
    headers = ["-H", f"x-api-key: {ANTHROPIC_KEY}", "-H", "anthropic-version: 2023-06-01", "-H",
               "content-type: application/json", "-H", f"obs-user-id: {user}", "-H", "obs-session-id: s-9"]  # fmt: skip
    body = {"model": "claude-sonnet-4-5", "max_tokens": 100, "system": "You triage tickets.",
            "messages": [{"role": "user", "content": "My printer is on fire"}]}  # fmt: skip
    whole = curl(f"{proxy.url}/v1/messages", *headers, "-d", json.dumps(body))
    assert whole == body_sent(upstream, sent)
    streamed = curl("-N", f"{proxy.url}/v1/messages", *headers, "-d", json.dumps({**body, "stream": True}))
    assert streamed == body_sent(upstream, sent + 1) and b"event: message_stop" in streamed
    requests = upstream.seen[seen:]
    assert [r.path for r in requests] == ["/v1/messages"] * 2
    assert all(r.headers["x-api-key"] == ANTHROPIC_KEY and r.headers["anthropic-version"] == "2023-06-01"
               for r in requests)  # fmt: skip
    no_obs_headers(requests)

    first, second = calls_of(proxy, user, 2)
    message = json.loads(whole)
    for call in (first, second):
        assert (call.source, call.provider, call.status) == ("proxy", "anthropic", "ok")
        assert call.model == "claude-sonnet-4-5"
        assert call.session_id == "s-9" and call.cached_tokens and call.cache_write_tokens
        assert call.content is not None and call.content.system_prompt == "You triage tickets."
        assert call.content.output_text == message["content"][0]["text"]  # the fake answers the same text
        assert call.cost_usd is not None and call.cost_usd > 0
    usage = message["usage"]  # obs counts the cached prompt tokens in the prompt's
    total = usage["input_tokens"] + usage["cache_read_input_tokens"] + usage["cache_creation_input_tokens"]
    assert first.stream is False and first.prompt_tokens == total
    assert first.cached_tokens == usage["cache_read_input_tokens"]
    assert second.stream and second.latency_ms_first_token is not None


@needs_curl
def test_the_read_timeout_from_the_environment_is_a_504(proxies: Shared) -> None:
    if proxies.dialect != "sqlite":
        pytest.skip("the transport does not depend on the store: runs on SQLite only")
    proxy = proxies.get()
    user = new_user("slow")
    started = time.monotonic()
    answer = curl("-w", "\n%{http_code}", f"{proxy.url}/v1/chat/completions", "-H", f"obs-user-id: {user}",
                  "-d", json.dumps({"model": "fail-timeout", "messages": MESSAGES}))  # fmt: skip
    body, status = answer.rsplit(b"\n", 1)
    assert status == b"504" and b"did not answer" in body and f"{TIMEOUT_S} s".encode() in body
    assert time.monotonic() - started < 4  # $OBS_PROXY_TIMEOUT_S, not the default (600 s) nor the upstream's 5 s
    (call,) = calls_of(proxy, user, 1)
    assert (call.status, call.error_type) == ("error", "APITimeoutError")


def test_the_planted_key_is_forwarded_and_stored_and_printed_nowhere(proxies: Shared, upstream: Upstream) -> None:
    """Every kind of call with the planted keys, then the whole store (every column of every table), everything the
    process printed up to its end and its spool are searched for them."""
    proxy = proxies.get()
    user = new_user("planted")
    seen = len(upstream.seen)
    oai = {"Authorization": f"Bearer {KEY}", "obs-user-id": user}
    with httpx2.Client(base_url=proxy.url, timeout=20) as client:
        assert client.post("/v1/chat/completions", headers=oai,
                           json={"model": "gpt-4o-mini", "messages": MESSAGES}).status_code == 200  # fmt: skip
        with client.stream("POST", "/v1/chat/completions", headers=oai,
                           json={"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True}) as stream:  # fmt: skip
            assert b"[DONE]" in stream.read()
        assert client.post("/v1/chat/completions", headers=oai,
                           json={"model": "fail-429", "messages": MESSAGES}).status_code == 429  # fmt: skip
        assert client.post("/v1/embeddings", headers=oai,
                           json={"model": "text-embedding-3-small", "input": "x"}).status_code == 200  # fmt: skip
        assert client.get("/v1/models", headers=oai).status_code == 200  # relayed, not recorded
        claude = {"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01", "obs-user-id": user}
        assert client.post("/v1/messages", headers=claude, json={
            "model": "claude-sonnet-4-5", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]
        }).status_code == 200  # fmt: skip
        both = {**oai, "x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"}
        assert client.post("/v1/messages", headers=both, json={
            "model": "fail-529", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]
        }).status_code == 529  # fmt: skip
    requests = upstream.seen[seen:]
    assert len(requests) == 7
    assert [r.headers.get("authorization") for r in requests[:5]] == [f"Bearer {KEY}"] * 5  # forwarded, untouched
    assert requests[5].headers["x-api-key"] == ANTHROPIC_KEY
    assert (requests[6].headers["x-api-key"], requests[6].headers["authorization"]) == (ANTHROPIC_KEY, f"Bearer {KEY}")
    calls = calls_of(proxy, user, 6)
    assert sorted(c.status for c in calls) == ["error", "error", "ok", "ok", "ok", "ok"]

    assert proxy.stop() == 0  # everything it prints, to its end
    tables, holding = tables_holding(proxy.db_url, "PLANTED")
    assert {"llm_calls", "llm_call_content", "llm_texts"} <= set(tables) and holding == []
    assert proxy.out and "Stopped." in proxy.out[-1]
    assert "PLANTED" not in proxy.output()
    assert "Traceback" not in proxy.output() and "could not be recorded" not in proxy.output()
    spooled = [p.read_bytes() for p in proxy.spool.rglob("*") if p.is_file()] if proxy.spool.exists() else []
    assert not [s for s in spooled if b"PLANTED" in s]


# --- the process itself (transport only: SQLite) -----------------------------------------------------------------


def test_it_refuses_to_start_with_one_line(upstream: Upstream, sqlite_url: str, tmp_path: Path) -> None:
    """Beyond loopback without $OBS_PROXY_TOKEN, an $OBS_PROVIDERS_FILE that is not TOML, one that holds a key
    (refused on purpose; not echoed), a port that is taken: exit status 1, one line naming what to fix, no
    traceback, no banner."""
    good, broken, keyed = providers_file(upstream, tmp_path), tmp_path / "broken.toml", tmp_path / "keyed.toml"
    broken.write_text('[providers.openai\nbase_url = "http://127.0.0.1:1/v1"\n')
    keyed.write_text(f'[providers.openai]\nbase_url = "http://127.0.0.1:1/v1"\napi_key = "{KEY}"\n')
    store = ["--database-url", sqlite_url]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = str(taken.getsockname()[1])
        cases = [(["--host", "0.0.0.0", "--port", str(free_port()), *store], good),
                 (["--port", str(free_port()), *store], broken), (["--port", str(free_port()), *store], keyed),
                 (["--port", busy, *store], good)]  # fmt: skip
        runs = [subprocess.Popen([OBS, "proxy", *args], env=proxy_env(path, tmp_path / "spool"), text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE) for args, path in cases]  # fmt: skip
        try:
            outputs = [run.communicate(timeout=60) for run in runs]  # side by side: each start takes seconds
        finally:
            for run in runs:
                if run.poll() is None:
                    run.kill()
    for run, (out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
        assert BANNER not in out, out
    (_, token_err), (_, broken_err), (keyed_out, keyed_err), (_, busy_err) = outputs
    assert "set OBS_PROXY_TOKEN" in token_err and "obs-proxy-token" in token_err
    assert f"cannot listen on 127.0.0.1:{busy}" in busy_err
    assert str(broken) in broken_err and "not valid TOML" in broken_err
    assert str(keyed) in keyed_err and "api_key_env" in keyed_err and "PLANTED" not in keyed_err + keyed_out


def test_beyond_loopback_it_wants_its_token(guarded: Shared, upstream: Upstream) -> None:
    proxy = guarded.get()
    assert proxy.out[0].startswith(f"obs proxy on http://0.0.0.0:{proxy.port}/v1 ")
    seen, sent = len(upstream.seen), len(upstream.sent)
    body = {"model": "gpt-4o-mini", "messages": MESSAGES}
    auth = {"Authorization": f"Bearer {KEY}", "obs-user-id": "tok-user"}
    url = f"{proxy.url}/v1/chat/completions"
    without = httpx2.post(url, json=body, headers=auth, timeout=10)
    wrong = httpx2.post(url, json=body, headers={**auth, "obs-proxy-token": TOKEN[:-1]}, timeout=10)
    assert without.status_code == wrong.status_code == 401
    assert "obs-proxy-token" in without.json()["error"]["message"] and TOKEN not in without.text + wrong.text
    assert len(upstream.seen) == seen  # refused before anything went upstream
    good = httpx2.post(url, json=body, headers={**auth, "obs-proxy-token": TOKEN}, timeout=10)
    assert good.status_code == 200 and good.content == body_sent(upstream, sent)
    models = httpx2.get(f"{proxy.url}/v1/models", headers={"obs-proxy-token": TOKEN}, timeout=10)
    assert models.status_code == 200 and models.content == body_sent(upstream, sent + 1)  # relayed too
    requests = upstream.seen[seen:]
    assert [r.path for r in requests] == ["/v1/chat/completions", "/v1/models"]
    assert requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert not [r for r in requests if "obs-proxy-token" in r.headers]
    no_obs_headers(requests)
    (call,) = calls_of(proxy, "tok-user", 1)
    assert call.source == "proxy" and call.status == "ok"


@needs_curl
def test_sigterm_lets_the_stream_under_way_finish_then_stops(guarded: Shared, upstream: Upstream) -> None:
    proxy = guarded.get()
    sent = len(upstream.sent)
    body = {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}}
    client = subprocess.Popen([CURL, "-sSN", "--max-time", "20", f"{proxy.url}/v1/chat/completions", "-H",
                               f"obs-proxy-token: {TOKEN}", "-H", "x-fake-drip: 0.2", "-H", "obs-user-id: leaving",
                               "-d", json.dumps(body)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        assert client.stdout is not None
        first = client.stdout.read1(65536)  # type: ignore[attr-defined]
        assert first.startswith(b"data: ")  # the stream is under way ...
        proxy.proc.send_signal(signal.SIGTERM)  # ... when the proxy is told to stop
        rest, errors = client.communicate(timeout=30)
    finally:
        if client.poll() is None:
            client.kill()
    code = proxy.wait()
    assert client.returncode == 0, errors
    assert first + rest == body_sent(upstream, sent)  # it got the whole stream
    assert code == 0 and proxy.out[-1].strip() == "Stopped.", proxy.output()
    assert "Traceback" not in proxy.output() and TOKEN not in proxy.output()
    store = Store(proxy.db_url)  # recorded before it exited
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT stream, status FROM llm_calls WHERE user_id = 'leaving'")).all()
    finally:
        store.close()
    assert [tuple(r) for r in rows] == [(True, "ok")]

"""obs as users get it: a wheel built from the checkout, installed into a fresh venv, run from a folder outside
the checkout. Everything obs reads at run time (queries, migrations, the dashboard, the demo's help center) must
be inside the wheel; a clone or an editable install would hide a missing file.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser import free_port

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Installed:
    venv: Path
    work: Path  # an empty folder outside the checkout, the working directory of every command
    env: dict[str, str]
    wheel: Path
    constraints: Path

    def run(self, *args: str, timeout: float = 300, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            args, cwd=self.work, env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        assert done.returncode == 0 or not ok, f"{args} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        return done

    def python(self, script: str) -> str:
        return self.run(str(self.venv / "bin" / "python"), "-c", textwrap.dedent(script)).stdout

    def obs(self, *args: str) -> str:
        return self.run(str(self.venv / "bin" / "obs"), *args).stdout


def _constraints(folder: Path) -> Path:
    """requirements.txt as pip constraints (pinned versions, no extras: pip refuses extras in constraints)."""
    lines = [re.sub(r"\[.*?\]", "", line) for line in (ROOT / "requirements.txt").read_text().splitlines()]
    path = folder / "constraints.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    folder = tmp_path_factory.mktemp("install")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(folder / "dist"), str(ROOT)], check=True)
    (wheel,) = (folder / "dist").glob("obs-*.whl")
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    constraints = _constraints(folder)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q", "install",
         "-c", str(constraints), f"{wheel}[dashboard,privacy]"],
        check=True,
    )  # fmt: skip
    work = folder / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OBS_", "PYTHON", "VIRTUAL_ENV"))}
    env |= {"OBS_SPOOL_DIR": str(folder / "spool"), "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"}
    return Installed(venv, work, env, wheel, constraints)


def test_the_package_is_the_installed_one_not_the_checkout(installed: Installed) -> None:
    where = installed.python("import obs, obs.config as c; print(obs.__file__); print(c.SQL_DIR); print(c.APP_PATH)")
    for line in where.split():
        assert Path(line).is_relative_to(installed.venv), where
        assert Path(line).exists(), line


def test_a_wrapped_call_is_recorded_into_sqlite(installed: Installed) -> None:
    out = installed.python(
        """
        import openai, obs, sqlalchemy as sa
        from obs.demo.provider import DemoProvider
        obs.configure("sqlite:///calls.db")
        with DemoProvider() as provider:
            client = obs.wrap(openai.OpenAI(base_url=provider.url, api_key="not-needed", max_retries=0))
            answer = client.chat.completions.create(
                model="gpt-5-mini", messages=[{"role": "user", "content": "How do I export a report as CSV?"}]
            )
        assert obs.flush(30), obs.stats()
        engine = sa.create_engine("sqlite:///calls.db")
        with engine.connect() as c:
            row = c.execute(sa.text("SELECT response_model, model, prompt_tokens, cost_usd FROM llm_calls")).one()
        s = obs.stats()
        print(answer.model == row.response_model, row.model, row.prompt_tokens > 0, row.cost_usd > 0)
        print(s.written, s.rejected, s.spooled)
        """
    )
    assert out.split() == ["True", "gpt-5-mini", "True", "True", "1", "0", "0"], out


def test_obs_init_creates_the_schema(installed: Installed) -> None:
    out = installed.obs("init", "--database-url", "sqlite:///init.db")
    assert "schema upgraded from empty to revision" in out, out
    assert "schema already at revision" in installed.obs("init", "--database-url", "sqlite:///init.db")


def test_a_small_obs_demo_fills_the_default_store(installed: Installed) -> None:
    out = installed.obs("demo", "--calls", "40", "--live", "2", "--days", "7", "--seed", "3")
    assert "The store now holds" in out and "Store: sqlite:///obs.db" in out, out
    assert (installed.work / "obs.db").is_file()


@pytest.fixture
def served(installed: Installed) -> Iterator[str]:
    installed.obs("demo", "--calls", "40", "--live", "0", "--days", "7", "--database-url", "sqlite:///served.db")
    port = free_port()
    proc = subprocess.Popen(
        [str(installed.venv / "bin" / "obs"), "dashboard", "--port", str(port), "--database-url", "sqlite:///served.db"],
        cwd=installed.work, env=installed.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                urllib.request.urlopen(f"{base}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        output = proc.communicate(timeout=15)[0]
    assert b"Traceback" not in output, output.decode(errors="replace")


def test_obs_dashboard_serves_and_its_pages_render(installed: Installed, served: str) -> None:
    with urllib.request.urlopen(f"{served}/_stcore/health", timeout=5) as response:
        assert response.status == 200 and response.read() == b"ok"
    # Every page of the installed dashboard runs against the store without an exception (Streamlit's AppTest).
    out = installed.python(
        """
        import os
        from obs import config
        from streamlit.testing.v1 import AppTest
        os.environ["OBS_DATABASE_URL"] = "sqlite:///served.db"
        at = AppTest.from_file(str(config.APP_PATH), default_timeout=60).run()
        assert not at.exception, ("app.py", [e.message for e in at.exception])
        print("app.py")
        for page in sorted((config.APP_PATH.parent / "pages").glob("*.py")):
            at.switch_page(f"pages/{page.name}").run()
            assert not at.exception, (page.name, [e.message for e in at.exception])
            print(page.name)
        """
    )
    assert "app.py" in out and "3_Calls.py" in out and len(out.split()) >= 9, out


def test_obs_collector_says_which_extra_it_needs_then_takes_spans_once_installed(installed: Installed) -> None:
    # Installed without the collector extra (above): every other command works, this one says what to install.
    missing = installed.run(str(installed.venv / "bin" / "obs"), "collector", ok=False)
    assert missing.returncode == 1 and "pip install 'obs[collector]'" in missing.stderr, missing.stderr
    installed.run(str(installed.venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q",
                  "install", "-c", str(installed.constraints), f"{installed.wheel}[collector]")  # fmt: skip
    port = free_port()
    proc = subprocess.Popen(
        [str(installed.venv / "bin" / "obs"), "collector", "--port", str(port), "--grpc-port", "0",
         "--database-url", "sqlite:///otlp.db"],
        cwd=installed.work, env=installed.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and "OTLP/HTTP on" in proc.stdout.readline()
        body = (ROOT / "tests" / "otlp_fixtures" / "openllmetry" / "chat.pb").read_bytes()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/traces", data=body, method="POST",
                                         headers={"content-type": "application/x-protobuf"})  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
        proc.terminate()
        out = proc.communicate(timeout=30)[0]
    finally:
        proc.kill()
    assert "Stopped." in out and "Traceback" not in out, out
    stats = installed.obs("stats", "--database-url", "sqlite:///otlp.db")
    assert re.search(r"^calls\s+1$", stats, re.MULTILINE) and re.search(r"^traces\s+1$", stats, re.MULTILINE), stats


def test_obs_proxy_says_which_extra_it_needs_then_records_a_call_once_installed(installed: Installed) -> None:
    missing = installed.run(str(installed.venv / "bin" / "obs"), "proxy", ok=False)
    assert missing.returncode == 1 and "pip install 'obs[proxy]'" in missing.stderr, missing.stderr
    installed.run(str(installed.venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q",
                  "install", "-c", str(installed.constraints), f"{installed.wheel}[proxy]")  # fmt: skip
    port = free_port()
    proc = subprocess.Popen(
        [str(installed.venv / "bin" / "obs"), "proxy", "--port", str(port), "--database-url", "sqlite:///proxy.db"],
        cwd=installed.work, env=installed.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and "obs proxy on" in proc.stdout.readline()
        body = b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "How do I reset my password?"}]}'
        # The built-in demo provider (started inside the proxy) is the upstream: no network needed.
        request = urllib.request.Request(f"http://127.0.0.1:{port}/p/demo/v1/chat/completions", data=body,
                                         method="POST", headers={"content-type": "application/json",
                                                                 "obs-feature": "install-check"})  # fmt: skip
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 200 and b'"choices"' in response.read()
        proc.terminate()
        out = proc.communicate(timeout=30)[0]
    finally:
        proc.kill()
    assert "Stopped." in out and "Traceback" not in out, out
    stats = installed.obs("stats", "--database-url", "sqlite:///proxy.db")
    assert re.search(r"^calls\s+1$", stats, re.MULTILINE), stats


def test_a_clickhouse_store_says_which_extra_it_needs_then_records_into_chdb_once_installed(
    installed: Installed,
) -> None:
    missing = installed.run(str(installed.venv / "bin" / "obs"), "stats", "--database-url", "chdb:///house", ok=False)
    assert missing.returncode == 1 and "pip install 'obs[clickhouse]'" in missing.stderr, missing.stderr
    installed.run(str(installed.venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q",
                  "install", "-c", str(installed.constraints), f"{installed.wheel}[clickhouse]")  # fmt: skip
    out = installed.python(
        """
        import openai, obs
        from obs.demo.provider import DemoProvider
        from obs.store.store import Store
        obs.configure("chdb:///house")
        with DemoProvider() as provider:
            client = obs.wrap(openai.OpenAI(base_url=provider.url, api_key="not-needed", max_retries=0))
            client.chat.completions.create(model="gpt-5-mini", messages=[{"role": "user", "content": "Export CSV?"}])
        assert obs.flush(30), obs.stats()
        stats = Store("chdb:///house").stats()
        print(stats.calls, stats.total_cost_usd > 0, obs.stats().spooled)
        """
    )
    assert out.split() == ["1", "True", "0"], out

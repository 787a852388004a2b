"""One configuration module, read the same way by SDK, CLI and dashboard."""

from __future__ import annotations

from pathlib import Path

import pytest

from obs import config
from obs.store.store import Store


def test_default_store_is_a_sqlite_file_in_the_working_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OBS_DATABASE_URL", raising=False)
    assert config.database_url() == "sqlite:///obs.db"


def test_database_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBS_DATABASE_URL", "postgres://u@db:5432/obs")
    assert config.database_url() == "postgresql+psycopg://u@db:5432/obs"


def test_store_without_url_uses_obs_database_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OBS_DATABASE_URL", raising=False)
    store = Store()
    store.close()
    assert (tmp_path / "obs.db").is_file()


def test_prices_file_is_optional(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OBS_PRICES_FILE", raising=False)
    assert config.prices_file() is None
    monkeypatch.setenv("OBS_PRICES_FILE", "/etc/obs/prices.toml")
    assert config.prices_file() == Path("/etc/obs/prices.toml")


def test_every_environment_variable_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    names = [getattr(config, n) for n in dir(config) if n.startswith("ENV_")]
    assert names
    for name in names:
        assert f"`{name}`" in readme, name


def test_default_spool_is_one_folder_per_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OBS_SPOOL_DIR", raising=False)
    a = config.spool_dir_for("sqlite:///a.db")
    assert a == config.spool_dir_for("sqlite:///a.db") and a != config.spool_dir_for("postgres://h/db")
    assert a.parent == config.SPOOL_DIR_DEFAULT
    monkeypatch.setenv("OBS_SPOOL_DIR", "/tmp/my-spool")
    assert config.spool_dir_for("sqlite:///a.db") == Path("/tmp/my-spool")

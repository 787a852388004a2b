# `make test`: create .venv if missing, install what is needed, run lint (and the import contracts), types and the
# whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint types unit demo dashboard clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

test: lint types unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo --no-cache

types: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

# `make demo`: fill the default SQLite store (obs.db) with offline demo traffic, then serve the dashboard.
demo: $(STAMP)
	$(BIN)/obs demo
	$(BIN)/obs dashboard

dashboard: $(STAMP)
	$(BIN)/obs dashboard

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# `make test`: create .venv if missing, install what is needed, run lint (and the import contracts), types and the
# whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint types unit frameworks-openai2 demo dashboard clean

$(STAMP): requirements.txt requirements-dev.txt requirements-otel.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

test: lint types unit frameworks-openai2

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo --no-cache

types: $(STAMP)
	$(BIN)/mypy

# The Node.js app the collector's tests run (the openai npm client instrumented by OpenInference JS).
NODE_STAMP := tests/otlp_node/node_modules/.installed

$(NODE_STAMP): tests/otlp_node/package-lock.json
	cd tests/otlp_node && npm ci --silent --no-audit --no-fund
	touch $(NODE_STAMP)

unit: $(STAMP) $(NODE_STAMP)
	$(BIN)/pytest

# `make frameworks-openai2`: the frameworks whose pins need openai<3 (instructor, llama-index), in their own venv,
# against obs installed from its wheel, run from outside the checkout so that `import obs` cannot find the checkout.
OPENAI2_VENV := $(CURDIR)/.venv-openai2
OPENAI2_STAMP := $(OPENAI2_VENV)/.installed

$(OPENAI2_STAMP): requirements-openai2.txt
	test -x $(OPENAI2_VENV)/bin/python || $(PYTHON) -m venv $(OPENAI2_VENV)
	$(OPENAI2_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(OPENAI2_VENV)/bin/python -m pip install --quiet -r requirements-openai2.txt
	touch $(OPENAI2_STAMP)

frameworks-openai2: $(OPENAI2_STAMP)
	rm -rf $(OPENAI2_VENV)/dist
	$(OPENAI2_VENV)/bin/python -m pip wheel --quiet --no-deps --no-build-isolation -w $(OPENAI2_VENV)/dist .
	$(OPENAI2_VENV)/bin/python -m pip install --quiet --no-deps --force-reinstall $(OPENAI2_VENV)/dist/obs-*.whl
	cd "$$(mktemp -d)" && env -u PYTHONPATH $(OPENAI2_VENV)/bin/pytest -p no:cacheprovider $(CURDIR)/tests/frameworks_openai2

# `make demo`: fill the default SQLite store (obs.db) with offline demo traffic, then serve the dashboard.
demo: $(STAMP)
	$(BIN)/obs demo
	$(BIN)/obs dashboard

dashboard: $(STAMP)
	$(BIN)/obs dashboard

clean:
	rm -rf $(VENV) $(OPENAI2_VENV) .pytest_cache .mypy_cache .ruff_cache

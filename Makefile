# One virtualenv, made on first use. `make run` and `make dev` install only what running needs;
# `make test` (and `make setup`, `make bench`) add the test extra. Each has its own stamp, so
# `make test` after `make run` installs the extra, and a changed pyproject.toml reinstalls both.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: setup run dev test system-prerequisites bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml setup.py | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

setup: $(TEST_STAMP)

# Today's partition of both assets, executed in this process (not through the run queue).
run: $(RUN_STAMP)
	$(BIN)/python -m spotify_assets.local run

# The Dagster UI and daemon (`dg dev`) on http://127.0.0.1:3000.
dev: $(RUN_STAMP)
	$(BIN)/python -m spotify_assets.local dev

test: $(TEST_STAMP) system-prerequisites
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -n auto --maxprocesses=2

# Chromium and a PostgreSQL server: installed when missing (as root), else named, and make stops.
system-prerequisites:
	bash spotify_assets_tests/deployment/system_prerequisites.sh

bench: $(TEST_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info

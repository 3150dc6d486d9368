# One virtualenv, made on first use; every target below sets it up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: setup run dev test system-prerequisites bench clean

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/python -m spotify_assets.local run

dev: setup
	$(BIN)/python -m spotify_assets.local dev

test: setup system-prerequisites
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

# Chromium and a PostgreSQL server: installed when missing (as root), else named, and make stops.
system-prerequisites:
	bash spotify_assets_tests/deployment/system_prerequisites.sh

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info

# vodkit: every target installs what it needs into .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: demo test lint bench install dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(BIN)/python
	$(PIP) -e .

dev: $(BIN)/python
	$(PIP) -e '.[dev]'

demo: install  ## make a sample clip and run it through the embedded pipeline
	$(BIN)/vodkit demo

test: dev  ## the whole test suite (unit, contract, integration, e2e)
	$(BIN)/python -m pytest

lint: dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: dev  ## transcode speed and memory, as ratios against baselines run alongside
	$(BIN)/python bench/transcode.py

clean:
	rm -rf $(VENV) vodkit-data

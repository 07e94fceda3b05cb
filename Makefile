# Two commands on a fresh machine: `make run` and `make test`. Both create .venv when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)  ## simulate the built-in city at its defaults and print the KPIs
	$(BIN)/python -m sim $(ARGS)

test: $(STAMP)  ## the test suite (benchmarks excluded)
	$(BIN)/python -m pytest -m "not benchmark" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache

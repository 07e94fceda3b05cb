# Two commands on a fresh machine: `make run` and `make test`. Both create .venv when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install lint format clean bench bench-check bench-baseline bench-sweep-1000 validate docs test-ray test-optuna test-cluster report-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)  ## simulate the built-in city at its defaults and print the KPIs
	$(BIN)/python -m sim $(ARGS)

test: $(STAMP)  ## the test suite (benchmarks and the Dask cluster tests, `make test-cluster`, excluded)
	$(BIN)/python -m pytest -m "not benchmark and not cluster" $(PYTEST_ARGS)

test-ray: $(STAMP)  ## install the `ray` extra; test the Ray launcher without starting Ray (a local Ray listens beyond 127.0.0.1)
	$(BIN)/python -m pip install --quiet -e ".[dev,ray]"
	$(BIN)/python -m pytest tests/test_cluster.py -k ray -v

test-cluster: $(STAMP)  ## install the `dask` extra; sweeps on a Dask scheduler and two workers the tests start and stop on 127.0.0.1
	$(BIN)/python -m pip install --quiet -e ".[dev,dask]"
	$(BIN)/python -m pytest -m cluster tests/test_cluster.py -v

test-optuna: $(STAMP)  ## install the `optuna` extra and run the policy search test
	$(BIN)/python -m pip install --quiet -e ".[dev,optuna]"
	$(BIN)/python -m pytest tests/test_sweep.py -k optuna -v

report-deps:  ## Debian's Chromium, for the test that renders the sweep report headless
	apt-get install -y chromium || (apt-get update && apt-get install -y chromium)

lint: $(STAMP)  ## ruff check and ruff format --check (CI runs it)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

validate: $(STAMP)  ## rerun the validation cases and rewrite docs/validation.md
	cd tests && ../$(BIN)/python validation_report.py ../docs/validation.md > /dev/null

docs: $(STAMP)  ## regenerate the generated parts of docs/ (the defaults tables of docs/model.md)
	$(BIN)/python scripts/defaults_table.py docs/model.md

bench: $(STAMP)  ## the whole benchmark suite, saved for `pytest-benchmark compare`
	$(BIN)/python -m pytest benchmarks -p no:cacheprovider --benchmark-autosave --benchmark-columns=min,mean,stddev,rounds

bench-check: $(STAMP)  ## quick subset (< 2 min) checked against benchmarks/baseline.json
	mkdir -p .benchmarks
	$(BIN)/python -m pytest benchmarks -m quick -q -p no:cacheprovider --benchmark-json=.benchmarks/quick.json
	$(BIN)/python -m benchmarks.guard .benchmarks/quick.json

bench-baseline: $(STAMP)  ## deliberately record a new baseline from the quick subset
	mkdir -p .benchmarks
	$(BIN)/python -m pytest benchmarks -m quick -q -p no:cacheprovider --benchmark-json=.benchmarks/quick.json
	$(BIN)/python -m benchmarks.guard .benchmarks/quick.json --write-baseline

bench-sweep-1000: $(STAMP)  ## one real 1,000-run sweep of the default city (10 cutoffs x 5 courier levels x 20 seeds), timed; not in CI (12-15 min here)
	time $(BIN)/python -m sim +experiment=cutoff_capacity results.new_sweep=true \
		cutoff.time=10:00,10:30,11:00,11:30,12:00,12:30,13:00,13:30,14:00,14:30 \
		capacity.couriers_per_station=20,25,30,35,40 'seed=range(1,21)' $(ARGS)

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache

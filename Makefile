# Every target creates .venv by itself when it is missing (or when pyproject.toml changed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB := .demo/webops.db

.PHONY: demo test lint bench fuzz screenshots clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

## demo: the demo world in the workbench: real services, injected faults, a team that learns
demo: $(STAMP)
	$(BIN)/webops --db $(DEMO_DB) demo

## test: lint with ruff, then run the whole test suite on two workers per core (pytest-xdist:
## many tests wait on sockets, subprocesses and SQLite, so two per core finish sooner than one)
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print(2 * (os.cpu_count() or 1))')
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

## lint: ruff (checks and formatting), mypy (strict) and the layer contracts (import-linter)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## fuzz: the long runs of the fuzzers (make test runs a fast subset of each): every CLI command
## and option with hostile values (FUZZ_EXAMPLES, default 3000), then schemathesis against the
## API's /openapi.json (WEBOPS_FUZZ_EXAMPLES requests per route, default 200), then SIGKILLs of a
## running demo at seeded random moments (CHAOS_KILLS, default 30)
FUZZ_EXAMPLES ?= 3000
WEBOPS_FUZZ_EXAMPLES ?= 200
CHAOS_KILLS ?= 30
fuzz: $(STAMP)
	WEBOPS_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q tests/test_cli_fuzz.py
	WEBOPS_FUZZ_EXAMPLES=$(WEBOPS_FUZZ_EXAMPLES) $(BIN)/pytest -q -p no:randomly tests/test_api_schema.py
	WEBOPS_CHAOS_KILLS=$(CHAOS_KILLS) $(BIN)/pytest -q tests/test_chaos.py

clean:
	rm -rf $(VENV) .demo .mypy_cache .ruff_cache

## bench: benchmarks against references measured in the same run; writes bench-results.json
bench: $(STAMP)
	$(BIN)/python -m compileall -q webops_tui widgets agent storage themes
	$(BIN)/python -m tests.benchmarks

## screenshots: regenerate screenshots/*.svg from the real app
screenshots: $(STAMP)
	$(BIN)/python -m webops_tui.screenshots screenshots

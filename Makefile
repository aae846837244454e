# Two promises: `make demo` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint fmt check bench screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The bench-only extra (huey, the comparison) goes into the same venv; `make test` never needs it.
$(VENV)/.bench-installed: $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@

# Every benchmark in one run: prints the table and writes docs/BENCHMARKS.md (about 10 minutes).
bench: $(VENV)/.bench-installed
	$(BIN)/python -m bench

demo: $(STAMP)
	$(BIN)/jobdeck --db demo.db demo --fresh

# mypy reads the folders under the one package they install as: api/ is jobdeck itself, and
# core/, storage/, tui/ are jobdeck.core, jobdeck.storage, jobdeck.tui.
.typecheck/jobdeck: Makefile $(wildcard api/*.py)
	rm -rf .typecheck/jobdeck
	mkdir -p .typecheck/jobdeck
	for f in api/*.py api/py.typed; do ln -sfn ../../$$f .typecheck/jobdeck/; done
	ln -sfn ../../core .typecheck/jobdeck/core
	ln -sfn ../../storage .typecheck/jobdeck/storage
	ln -sfn ../../tui .typecheck/jobdeck/tui

lint: $(STAMP) .typecheck/jobdeck
	$(BIN)/ruff format --check api core storage tui tests bench examples scripts
	$(BIN)/ruff check api core storage tui tests bench examples scripts
	MYPYPATH=.typecheck $(BIN)/mypy -p jobdeck
	MYPYPATH=.typecheck $(BIN)/mypy examples bench scripts

test: lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

fmt: $(STAMP)
	$(BIN)/ruff format api core storage tui tests bench examples scripts
	$(BIN)/ruff check --fix api core storage tui tests bench examples scripts

# The README's pictures, and the SVG snapshots the tests compare against, drawn again.
screenshots: $(STAMP)
	$(BIN)/python -m jobdeck.tui.shoot screenshots
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/tui/test_snapshots.py --snapshot-update

check: $(STAMP)
	$(BIN)/jobdeck check

clean:
	rm -rf $(VENV) build *.egg-info demo.db demo.db-wal demo.db-shm

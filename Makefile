# The two commands a newcomer needs: `make demo` and `make test`. Each sets up .venv first.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && echo $$p && break; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench demo-clean clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "guestsync needs Python 3.11 or newer on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(PY) -m guestsync.demo

demo-clean:
	rm -rf .demo

lint: $(STAMP)
	$(VENV)/bin/ruff check guestsync tests benchmarks
	$(VENV)/bin/ruff format --check guestsync tests benchmarks
	$(VENV)/bin/mypy guestsync

test: $(STAMP) lint  # lint: ruff, then the type checker
	$(PY) -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	@set -e; for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b; done

clean:
	rm -rf $(VENV) .demo .pytest_cache .ruff_cache

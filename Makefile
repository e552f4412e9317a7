# The two commands a newcomer needs: `make demo` and `make test`. Each sets up .venv first.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && echo $$p && break; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint browser postgres wrk bench demo-clean clean

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

test: $(STAMP) lint browser postgres  # lint: ruff, then the type checker
	$(PY) -m pytest -n 2 --dist loadfile

# The console's browser test drives Debian's Chromium (never `playwright install`, which
# downloads a browser), with a CJK font so Chinese labels are measured as they render.
# Without root or apt the test skips and says why.
browser:
	@test -x /usr/bin/chromium || { \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-wqy-microhei; \
	} || echo "could not install chromium: the console's browser test will skip"

# The store tests run on PostgreSQL too: the machine's server, else one started from
# Debian's postgresql package (tests/start_postgres.sh); without any they skip and say why.
postgres: $(STAMP)
	@PY=$(PY) sh tests/start_postgres.sh

# bench_webhooks drives both apps with wrk (Debian's package); without it the benchmark
# falls back to a Python load generator, which takes more of the cores, and says so.
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk; \
	} || echo "could not install wrk: bench_webhooks will use its Python load generator"

bench: $(STAMP) wrk
	@set -e; for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b; done

clean:
	rm -rf $(VENV) .demo .pytest_cache .ruff_cache

# The two commands a newcomer needs: `make run` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Tests and benchmarks run on the machine's PostgreSQL and Redis unless told otherwise.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/topleft
TEST_REDIS_URL ?= redis://127.0.0.1:6379/14

.PHONY: run test bench lint install services chromium

$(STAMP): requirements/base.txt requirements/dev.txt package.json
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	npm install --no-audit --no-fund --loglevel=error
	touch $(STAMP)

install: $(STAMP)

run: install
	DEBUG=1 $(PY) manage.py run_local

services:
	bash .ci/services

# Browser tests drive Debian's headless Chromium (never a downloaded browser).
chromium:
	@command -v chromium >/dev/null || { echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && apt-get install -y -qq chromium chromium-driver; }

test: install services chromium
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) -m pytest $(PYTEST_ARGS)

# `make bench` runs every benchmark; `make bench BENCH=tests/bench/test_bench_sync.py` one file.
BENCH ?= tests/bench
bench: install services
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) -m pytest $(BENCH) -s -p no:cacheprovider -o addopts="" $(PYTEST_ARGS)

# ruff (lint + format), migrations in step with the models, mypy on psa/ and sync/.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=1 TOPLEFT_VAR_DIR=$(CURDIR)/var/lint $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/mypy

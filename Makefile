# The two commands of the README: `make run` and `make test`. Everything else is their set-up.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
# The first Python >= 3.12 found: the one named by .python-version (pyenv), then the usual names.
PYTHON ?= $(shell for p in python$$(cat .python-version 2>/dev/null) python3.13 python3.12 python3 python; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
	&& { command -v $$p; break; }; done)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help run test lint setup db db-server migrate messages static demo stop-db bench clean

help:
	@echo "make run    serve the application with demo data on http://$(HOST):$(PORT)"
	@echo "make test   run the whole test suite on PostgreSQL"

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python >= 3.12 is required (see .python-version)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet ".[dev]"
	@touch $@

setup: $(VENV)/.installed messages

# Compiled catalogues are build output (not committed): compile whenever a .po is newer.
messages: $(VENV)/.installed
	@$(PY) -m mass.i18n.compile locale

# The embedded PostgreSQL under var/ (nothing when DATABASE_URL is set); idempotent. Started
# here, never by reading the settings; `make stop-db` stops it.
db-server: setup
	@$(PY) -m mass.database.embedded start

db: db-server
	@$(PY) manage.py migrate --no-input -v 0
	@echo "Database ready."

static: setup
	@$(PY) manage.py collectstatic --no-input -v 0

run: export DEMO ?= 1
run: db static
	$(PY) manage.py seed_demo
	@echo "Log in at http://$(HOST):$(PORT)/accounts/login/"
	$(VENV)/bin/gunicorn mass.config.wsgi:application --config mass/config/gunicorn.conf.py \
		--bind $(HOST):$(PORT)

# The lint gate first (ruff, and no model change without its migration), then the suite.
test: setup db-server lint
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup db-server
	$(VENV)/bin/ruff check .
	DEMO=1 $(PY) manage.py makemigrations --check --dry-run -v 0

bench: db
	$(PY) -m bench

stop-db:
	@test ! -x $(PY) || $(PY) -m mass.database.embedded stop

clean: stop-db
	rm -rf $(VENV) var

# The README's commands. `make demo` and `make test` work on a fresh machine:
# each runs `setup` first, which is idempotent.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    ?= .venv
PY      := $(VENV)/bin/python
EDGESLA := $(VENV)/bin/edgesla
# Debian packages the local PoP stack and its tests need (iptables: the fault-injection tests;
# prometheus-alertmanager brings amtool too; victoria-metrics: `stack up --with-victoria-metrics`).
DEB_PACKAGES := etcd-server etcd-client prometheus prometheus-alertmanager chromium poppler-utils \
	iptables victoria-metrics
STAMP := $(VENV)/.edgesla-installed

.PHONY: help setup demo test lint typecheck check stack-down clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

setup: $(STAMP) ## create .venv, install edgesla with dev extras, install missing Debian packages
	@scripts/install-debian-packages.sh $(DEB_PACKAGES)

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# grafana-client's HTTP stack (niquests) needs urllib3-future, whose wheel replaces urllib3
	@# under every package of the venv (requests included); built from source with
	@# URLLIB3_NO_OVERRIDE=1 it installs beside urllib3 instead (tests/unit/test_packaging.py).
	URLLIB3_NO_OVERRIDE=1 $(PY) -m pip install --quiet --no-binary urllib3-future -e '.[dev]'
	@touch $@

demo: setup ## bring the local PoP stack up and show its status
	$(EDGESLA) demo

# The tests that start no server run on two pytest-xdist workers first (as in `check`); the
# stack tests then run one at a time (they share the local stack and time real servers).
# Both parts always run; the exit code is the first failing part's.
test: setup ## run lint, type checks and the whole test suite against real servers
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	@rc=0; \
	$(VENV)/bin/pytest -m "not stack and not slow" -n 2 || rc=$$?; \
	$(VENV)/bin/pytest -m "stack or slow" || { r=$$?; test $$rc -ne 0 || rc=$$r; }; \
	exit $$rc

# Two pytest workers (pytest-xdist): none of these tests shares a port or a file with another.
check: setup ## the fast loop: lint, types and every test that starts no stack (~50 s on 2 cores)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -q -m "not stack and not slow" -n 2

lint: setup ## ruff lint and format check only
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup ## mypy --strict on the product code
	$(VENV)/bin/mypy

stack-down: ## stop the demo stack started by `make demo`
	$(EDGESLA) stack down

clean: ## remove the virtualenv and the demo state directory (stops the stack first)
	-$(EDGESLA) stack down
	rm -rf $(VENV) .edgesla

# whsync — the two quick-start commands bootstrap everything they need:
#   make demo   sync the embedded demo tenant into warehouse.duckdb and print what was built
#   make test   check the import contracts (make lint), then run the test suite (all of it, as CI runs it)
#   make test-fast   the inner loop before every commit: the suite without the tests marked slow
# Only python3 (3.11+) and make are required; uv and the virtualenv are created on first use.

SHELL := /bin/bash
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_COMPILE_BYTECODE := 1
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export RUNTIME__DLTHUB_TELEMETRY := false
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
# Python writes the bytecode of pipelines/ and tests/ (the tests' as pytest rewrites their asserts) on first
# import, even where the environment sets PYTHONDONTWRITEBYTECODE: otherwise every pytest worker, fork
# server and whsync process compiles them again, ~2 s of CPU each (the venv's own is compiled by uv)
unexport PYTHONDONTWRITEBYTECODE

.PHONY: demo test test-fast lint bench clean

# one pytest worker per core and one more: the suite is mostly CPU, but some tests wait (a simulator's
# latency or rate window, a server starting), and the extra worker fills those waits
PYTEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print(len(os.sched_getaffinity(0)) + 1)')

# uv in a venv of its own. Where python3's pip can install into another interpreter (pip 22.3+: --python), the
# venv gets no pip of its own (ensurepip's install took ~3 of the ~5 s); else the venv's own pip installs uv
$(UV):
	@if $(PYTHON) -m venv --without-pip $(TOOLS) && $(PYTHON) -m pip --python $(TOOLS)/bin/python --version >/dev/null 2>&1; then \
	  echo "$(PYTHON) -m pip --python $(TOOLS)/bin/python install uv"; \
	  $(PYTHON) -m pip --python $(TOOLS)/bin/python install --quiet --disable-pip-version-check uv; \
	else \
	  echo "$(PYTHON) -m venv $(TOOLS) && $(TOOLS)/bin/pip install uv"; \
	  $(PYTHON) -m venv --clear $(TOOLS) && $(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv; \
	fi

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	@touch $@

demo: $(VENV)/.synced
	$(VENV)/bin/whsync demo

# the import contracts in pyproject.toml (layers, no cycles): see the README's "Layout"
lint: $(VENV)/.synced
	$(VENV)/bin/lint-imports --no-cache

test: $(VENV)/.synced lint
	@scripts/ensure-chromium
	$(VENV)/bin/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -q $(PYTEST_ARGS)

test-fast: $(VENV)/.synced
	$(VENV)/bin/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -q -m "not slow" $(PYTEST_ARGS)

bench: $(VENV)/.synced
	$(VENV)/bin/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) warehouse.duckdb warehouse-docs target dbt_packages logs .pytest_cache

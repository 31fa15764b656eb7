# Two commands on a fresh machine: `make demo` and `make test`. Both build .venv/ themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint typecheck schema sample-data bench clean system-packages

venv: $(STAMP)

# Reinstall whenever the dependency list changes; otherwise the venv is reused.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,dev]'
	touch $(STAMP)

# PostgreSQL server binaries for the tests; installed only when we are root and they are missing.
system-packages:
	@bash scripts/install-system-packages.sh

demo: venv
	$(BIN)/shadowscope demo

test: venv system-packages
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# extension-api/ is imported as extension_api (package-dir); mypy finds it under that name through a link
	@# on its search path (mypy_path in pyproject.toml).
	mkdir -p $(VENV)/typecheck && ln -sfn $(CURDIR)/extension-api $(VENV)/typecheck/extension_api
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

schema: venv
	$(BIN)/python -m events.schema_export

sample-data: venv
	$(BIN)/python scripts/make_sample_data.py

bench: venv system-packages
	$(BIN)/python bench/ingest_throughput.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info

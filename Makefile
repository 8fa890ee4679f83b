# Two commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
BASE := $(VENV)/.installed-base
STAMP := $(VENV)/.installed
SAMPLE := sample_data/province
HOST := 127.0.0.1

.PHONY: help venv sample demo lint test test-fast lab bench system-deps clean

help:
	@echo "make demo      - set up .venv, sample data, run the closed loop"
	@echo "make test      - set up what the tests need, run the linters and every test (2 workers; TEST_WORKERS=N)"
	@echo "make test-fast - the linters and the tests needing no PostgreSQL, Chromium or kernel"
	@echo "make lint      - ruff check and the import contracts (lint-imports)"
	@echo "make lab       - JupyterLab on $(HOST) with the project's kernel (WORKSPACE=DIR for your own workspace)"
	@echo "make bench     - run the benchmarks (slow; prints figures)"

# The package alone (what the demo and JupyterLab need) ...
$(BASE): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name workbench --display-name "Python (workbench)" >/dev/null
	touch $(BASE)

# ... and with the extras the tests cover: scale (Dask), postgres (psycopg), test (pytest, linters).
$(STAMP): $(BASE)
	$(BIN)/pip install -q -e '.[test,scale,postgres]'
	touch $(STAMP)

venv: $(STAMP)

$(SAMPLE)/subscribers.parquet: | $(BASE)
	$(BIN)/workbench sample --subscribers 20000 --months 6 --seed 20261126 --out $(SAMPLE)

sample: $(SAMPLE)/subscribers.parquet

system-deps:
	bash scripts/system-deps.sh

demo: $(BASE) sample
	$(BIN)/workbench demo --data $(SAMPLE) --serve

lint: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# --durations: the slowest tests are printed with every run, to keep the suite's time budget in sight.
# Two pytest-xdist workers (TEST_WORKERS=0: one process), a whole test file per worker (--dist loadfile) so
# a module's server, browser or model is set up once; the demo chain is built once for both
# (tests/chain_fixtures.py).  Most tests wait on kernels, servers and Chromium, so two workers gain even on 2 cores.
TEST_WORKERS ?= 2
test: venv system-deps lint
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=25 $(PYTEST_ARGS)

# Neither PostgreSQL nor Chromium nor Jupyter kernels (the template runs take minutes).
test-fast: venv lint
	$(BIN)/python -m pytest -q -m "not slow and not browser and not postgres and not kernel" $(PYTEST_ARGS)

# JupyterLab on the workspace WORKSPACE (default: this repository, the sample province's workspace); notebooks
# open in the 'Python (workbench)' kernel and find the workspace's workbench.toml by walking up from their folder.
WORKSPACE ?= .
lab: $(BASE)
	$(BIN)/jupyter lab --ip=$(HOST) --no-browser --ServerApp.open_browser=False --ServerApp.root_dir=$(WORKSPACE) \
		--MappingKernelManager.default_kernel_name=workbench $(if $(filter 0,$(shell id -u)),--allow-root)

bench: venv
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) runs build *.egg-info

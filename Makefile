# Two commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE := sample_data/province
HOST := 127.0.0.1

.PHONY: help venv sample demo test test-fast lab bench system-deps clean

help:
	@echo "make demo   - set up .venv, sample data, run the closed loop"
	@echo "make test   - set up what the tests need and run them"
	@echo "make lab    - JupyterLab on $(HOST) with the project's kernel (WORKSPACE=DIR for your own workspace)"
	@echo "make bench  - run the benchmarks (slow; prints figures)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name workbench --display-name "Python (workbench)" >/dev/null
	touch $(STAMP)

venv: $(STAMP)

$(SAMPLE)/subscribers.parquet: | $(STAMP)
	$(BIN)/workbench sample --subscribers 20000 --months 6 --seed 20261126 --out $(SAMPLE)

sample: $(SAMPLE)/subscribers.parquet

system-deps:
	bash scripts/system-deps.sh

demo: venv sample
	$(BIN)/workbench demo --data $(SAMPLE) --serve

test: venv system-deps
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-fast: venv
	$(BIN)/python -m pytest -q -m "not slow and not browser and not postgres" $(PYTEST_ARGS)

# JupyterLab on the workspace WORKSPACE (default: this repository, the sample province's workspace); notebooks
# open in the 'Python (workbench)' kernel and find the workspace's workbench.toml by walking up from their folder.
WORKSPACE ?= .
lab: venv
	$(BIN)/jupyter lab --ip=$(HOST) --no-browser --ServerApp.open_browser=False --ServerApp.root_dir=$(WORKSPACE) \
		--MappingKernelManager.default_kernel_name=workbench $(if $(filter 0,$(shell id -u)),--allow-root)

bench: venv
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) runs build *.egg-info

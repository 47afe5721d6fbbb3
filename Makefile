# One-command entry points (see README):
#   make run    -> create .venv, install everything, run the default calibration workflow
#   make test   -> create .venv, install everything, run the test suite
PYTHON ?= python3
VENV   ?= .venv
CORES  ?= 2
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup run test test-fast bench clean-results dry-run-slurm

setup: $(STAMP)

# torch is pinned to the CPU build first: an unpinned torch would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml envs/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -c envs/constraints.txt -e '.[test,bench]'
	touch $(STAMP)

run: setup
	$(BIN)/snakemake --cores $(CORES) --profile config/profiles/local

test: setup
	$(BIN)/python -m pytest -q tests

dry-run-slurm: setup
	$(BIN)/snakemake --profile config/profiles/slurm --dry-run

clean-results:
	rm -rf results .snakemake

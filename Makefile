# One-command entry points (see README):
#   make run    -> create .venv, install everything, run the default calibration workflow
#   make test   -> create .venv, install everything, run the test suite
#   make lint   -> snakemake --lint and snakefmt --check on the workflow
#   make test-slurm -> start a one-node SLURM cluster here (root; .ci/slurm_cluster.sh), run the
#                  .test/ workflow through config/profiles/slurm on it (tests/test_slurm.py), stop it
PYTHON ?= python3
VENV   ?= .venv
CORES  ?= 2
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup run test lint test-slurm clean-results dry-run-slurm

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
	$(BIN)/python -m pytest -q --durations=15 tests

# snakefmt reads its settings from pyproject.toml ([tool.snakefmt]).
lint: setup
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile workflow/rules

SLURM_DIR ?= /tmp/grassego-slurm
test-slurm: setup
	GRASSEGO_SLURM_DIR=$(SLURM_DIR) .ci/slurm_cluster.sh start
	GRASSEGO_SLURM_DIR=$(SLURM_DIR) $(BIN)/python -m pytest -q tests/test_slurm.py; \
	  status=$$?; GRASSEGO_SLURM_DIR=$(SLURM_DIR) .ci/slurm_cluster.sh stop; exit $$status

dry-run-slurm: setup
	$(BIN)/snakemake --profile config/profiles/slurm --dry-run

clean-results:
	rm -rf results .snakemake

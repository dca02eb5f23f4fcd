# Two commands: `make run` and `make test`. Each sets up .venv first when it is missing or
# older than pyproject.toml.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= training/configs/default.toml

.PHONY: install run test test-fast lint typecheck bench clean

# Packages are installed without compiling them (pip compiles everything one file at a
# time: 55 s for the whole install against about 18 s). pip is upgraded first: Python
# 3.11's own pip (23.2) took 50 s over the same install.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile -e '.[dev]'
	@touch $(STAMP)

# Compiled files matter: where PYTHONDONTWRITEBYTECODE is set, as on CI machines, nothing
# compiled at import is kept, and every process (each test worker, each run the tests
# start, each notebook's kernel) would compile every module it imports, every time. So
# the commands below keep what they compile, under .venv/pycache (the source tree stays
# as it is): a module is compiled once, by the first process that imports it, and only
# the modules something imports are compiled (compiling every installed package first
# took 11 s on 2 cores).
KEEP_COMPILED := PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX="$(CURDIR)/$(VENV)/pycache"

install: $(STAMP)

run: $(STAMP)
	$(KEEP_COMPILED) $(BIN)/escalation-model run --config $(CONFIG)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy escalation_model

# Two workers (the machine's two cores); a test file stays on one worker, so a module's
# shared fixture (a whole run, read by many tests) is made once; the notebooks are
# executed by the same workers, and so is the type check (tests/test_types.py: mypy as
# `make typecheck` runs it), which shares their cores instead of waiting in front. One
# thread per worker (OMP_NUM_THREADS, which the library's thread counts respect): no
# worker's threads wait on the other's core.
test: lint
	$(KEEP_COMPILED) OMP_NUM_THREADS=1 $(BIN)/pytest -n 2 --dist loadfile --nbmake tests escalation_model notebooks

test-fast: $(STAMP)
	$(KEEP_COMPILED) $(BIN)/pytest -m "not slow"

bench: $(STAMP)
	$(BIN)/python evaluation/bench_generation.py
	$(BIN)/python evaluation/bench_models.py
	$(BIN)/python evaluation/bench_fairness.py
	$(BIN)/python evaluation/bench_explain.py
	$(BIN)/python evaluation/bench_population.py
	$(BIN)/python evaluation/bench_stages.py
	$(BIN)/python evaluation/bench_prepare.py
	$(BIN)/python evaluation/bench_disclosure.py
	$(BIN)/python evaluation/bench_differencing.py
	$(BIN)/python evaluation/fuzz_model_files.py
	$(BIN)/python evaluation/bench_small_sample_intervals.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

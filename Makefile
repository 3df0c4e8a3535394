# Every target bootstraps .venv itself: a fresh machine needs only Python 3.11+ and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run demo test lint format bench clean

# Compile the package once: where the environment sets PYTHONDONTWRITEBYTECODE, every process
# (the app, each central worker a test starts) would otherwise compile it from source again.
BYTECODE = $(BIN)/python -m compileall -q -j 0 classroom_support >/dev/null

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,pg]'
	@touch $(STAMP)

run: $(STAMP)
	@$(BYTECODE)
	$(BIN)/classroom-support $(ARGS)

demo: $(STAMP)
	@$(BYTECODE)
	$(BIN)/classroom-support --demo $(ARGS)

# Tests run in parallel (pytest-xdist): many of them wait on subprocesses, servers and a
# browser, so three workers beat two even on two cores. PYTEST_WORKERS=0 runs them in order.
PYTEST_WORKERS ?= 3

# pytest itself may write bytecode: with PYTHONDONTWRITEBYTECODE it rewrote (assert rewriting)
# every test module and the plugin packages (hypothesis, schemathesis, syrupy) from source again
# in the controller and in each worker, ~4 s of CPU apiece.
test: $(STAMP)
	@$(BYTECODE)
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	@$(BYTECODE)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache

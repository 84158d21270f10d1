# Kaohe — two commands: `make run` (embedded stack) and `make test` (every test).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test test-fast bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Kaohe needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: install
	$(BIN)/kaohe up

test: install
	$(BIN)/python -m pytest

# Domain and API tests only, without the Temporal end-to-end suite.
test-fast: install
	$(BIN)/python -m pytest -m 'not temporal'

bench: install
	$(BIN)/python bench/simulate_large.py

clean:
	rm -rf $(VENV) .kaohe .pytest_cache .hypothesis

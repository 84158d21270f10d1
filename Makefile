# Kaohe — two commands: `make run` (embedded stack) and `make test` (every test).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run demo test test-fast bench clean browser

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Kaohe needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: install
	$(BIN)/kaohe up

# The worked example as a cycle in progress, in a fresh data dir of its own (.kaohe-demo, emptied
# first), with one account per role; the passwords are printed once.
DEMO_DIR ?= .kaohe-demo
demo: install
	rm -rf $(DEMO_DIR)
	KAOHE_DATA_DIR=$(DEMO_DIR) $(BIN)/kaohe up --demo

# Two workers, a test file each at a time (--dist loadfile keeps a file's module fixtures together).
# Among them the authorization matrix (tests/test_authz_matrix.py) and a bounded schemathesis run as
# every role (tests/test_fuzz_api.py), both on SQLite and PostgreSQL.
test: install browser
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The browser tests (tests/test_web.py) drive Debian's Chromium; no browser is downloaded.
# As root, install it (and a CJK font, or Chinese pages render as boxes) when missing; a failed
# install never fails the build: the browser tests then skip and say why.
browser:
	-@if [ "$$(id -u)" = 0 ]; then \
		command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium); \
		fc-list :lang=zh 2>/dev/null | grep -q . || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei; \
	else \
		command -v chromium >/dev/null || echo "chromium not installed and not root: browser tests will skip (apt-get install chromium)"; \
	fi; true

# Domain and API tests only, without the Temporal end-to-end suite.
test-fast: install
	$(BIN)/python -m pytest -n 2 --dist loadfile -m 'not temporal'

bench: install
	$(BIN)/python bench/simulate_large.py

clean:
	rm -rf $(VENV) .kaohe .kaohe-demo .pytest_cache .hypothesis

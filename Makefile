# CarrierCoop — the two commands: `make run` and `make test`.
# Everything a fresh machine needs is installed here, idempotently: a second run that finds
# the stamps newer than pyproject.toml / package-lock.json installs nothing.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMPS := .make

.PHONY: run test test-fast soak bench lint format schema install postgres chromium clean

run: install
	$(BIN)/coop serve --demo $(ARGS)

test: install
	COOP_TEST_DATABASE_URL="$$(scripts/ensure-postgres.sh)" COOP_TEST_CHROMIUM="$$(scripts/ensure-chromium.sh)" \
		$(BIN)/pytest $(PYTEST_ARGS)

# Contract and unit tests only (no node processes, no PostgreSQL): quick feedback while coding.
test-fast: install
	$(BIN)/pytest -m "not e2e and not postgres" $(PYTEST_ARGS)

# The crash harness for many rounds (tests/crash_harness.py): CRASH_ROUNDS, CRASH_SEED.
soak: install
	CRASH_ROUNDS=$${CRASH_ROUNDS:-150} $(BIN)/pytest -s tests/test_crash.py $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m benchmarks

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: install
	$(BIN)/coop schema > graphql/schema.graphql

install: $(STAMPS)/python $(STAMPS)/node

postgres:
	@scripts/ensure-postgres.sh

chromium:
	@scripts/ensure-chromium.sh

$(STAMPS)/python: pyproject.toml
	@mkdir -p $(STAMPS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

$(STAMPS)/node: package.json package-lock.json
	@mkdir -p $(STAMPS)
	@# `npm install`, not `npm ci`: the lock file records only the anvil binary package of the
	@# platform it was made on, which `npm ci` refuses on another; versions are pinned exactly.
	npm install --no-audit --no-fund --loglevel=error
	@touch $@

clean:
	rm -rf $(VENV) node_modules $(STAMPS) .coop-data

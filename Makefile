# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The suite creates (and drops) its own database on this server; see tests/conftest.py.
HUB_TEST_POSTGRES_URL ?= postgresql+psycopg://$(shell id -un)@127.0.0.1:5432/test
PYTEST_ARGS ?=

.PHONY: install run test test-sqlite test-postgres lint bench screenshots clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: install
	mkdir -p var
	@# The local settings go into .env once (values already there are kept): the admin key
	@# dev-admin-key and a Stripe test secret (127.0.0.1 only), a stable HUB_SECRET_KEY for
	@# rotating connector credentials, the port. Every `hub ...` run here then sees them; the
	@# environment still wins (HUB_ADMIN_API_KEY=... make run). It prints the admin key.
	$(BIN)/hub init-env
	$(BIN)/hub db upgrade
	$(BIN)/hub demo
	$(BIN)/hub serve

lint: install
	$(BIN)/ruff check hub connectors worker
	$(BIN)/lint-imports
	$(BIN)/mypy hub connectors worker

test-sqlite: install
	$(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install
	HUB_TEST_DATABASE_URL=$(HUB_TEST_POSTGRES_URL) $(BIN)/pytest $(PYTEST_ARGS)

test: lint test-sqlite test-postgres

# The browser tests take the README's screenshots on demo data; this keeps them in docs/.
screenshots: install
	HUB_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q tests/browser

# The pipeline bench drives load with wrk (Debian package); the Node-RED peer joins when its folder is there.
NODERED_PEER ?= $(wildcard ../shared/peers/nodered)
BENCH_PIPELINE_ARGS ?= --sustained $(if $(NODERED_PEER),--nodered $(NODERED_PEER))
bench: install
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	$(BIN)/python bench/bench_recipe_engine.py
	$(BIN)/python bench/bench_pipeline.py $(BENCH_PIPELINE_ARGS)
	$(BIN)/python bench/bench_pipeline.py --systems none --sustained --vendor-delay-ms 50 --rate 400

clean:
	rm -rf var $(VENV)

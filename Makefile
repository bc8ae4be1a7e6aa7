# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The suite creates (and drops) its own database on this server; see tests/conftest.py.
HUB_TEST_POSTGRES_URL ?= postgresql+psycopg://$(shell id -un)@127.0.0.1:5432/test
# `make run` serves on 127.0.0.1 only; this key is for trying the API locally.
HUB_ADMIN_API_KEY ?= dev-admin-key
# A local Stripe connection, so `hub try-webhook` works out of the box.
HUB_STRIPE_WEBHOOK_SECRET ?= whsec_local_demo_secret
PYTEST_ARGS ?=

.PHONY: install run test test-sqlite test-postgres lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: install
	mkdir -p var
	@# A stable secret for encrypting rotating connector credentials, generated once per checkout.
	@grep -qs '^HUB_SECRET_KEY=' .env || $(BIN)/python -c "import secrets; print('HUB_SECRET_KEY=' + secrets.token_urlsafe(32))" >> .env
	$(BIN)/hub db upgrade
	$(BIN)/hub demo
	@echo "Admin API key for this local hub: $(HUB_ADMIN_API_KEY)"
	HUB_ADMIN_API_KEY=$(HUB_ADMIN_API_KEY) HUB_STRIPE_WEBHOOK_SECRET=$(HUB_STRIPE_WEBHOOK_SECRET) $(BIN)/hub serve

lint: install
	$(BIN)/ruff check hub connectors worker
	$(BIN)/lint-imports
	$(BIN)/mypy hub connectors worker

test-sqlite: install
	$(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install
	HUB_TEST_DATABASE_URL=$(HUB_TEST_POSTGRES_URL) $(BIN)/pytest $(PYTEST_ARGS)

test: lint test-sqlite test-postgres

bench: install
	$(BIN)/python bench/bench_recipe_engine.py

clean:
	rm -rf var $(VENV)

# The two commands of the README: `make serve` and `make test`. Only Python 3.11 and make are needed.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export SECRET_KEY_FILE ?= $(CURDIR)/var/secret_key

.PHONY: serve sdk-assets test lint lint-check typecheck schema clean ci

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

var/secret_key:
	mkdir -p var
	$(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > var/secret_key
	chmod 600 var/secret_key

serve: $(STAMP) var/secret_key sdk-assets
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py migrate_clickhouse
	$(PY) manage.py bootstrap
	$(PY) manage.py serve

# posthog-js's files for /static/ and the console's libraries (pinned releases, checked against their sha512;
# npm if present, else Python).
# Idempotent. Offline it warns and goes on: /static/ then answers 404 and says in the log what to run.
sdk-assets: $(STAMP) var/secret_key
	-$(PY) manage.py fetch_sdk_assets
	-$(PY) manage.py fetch_console_assets

tests/js/node_modules/.installed: tests/js/package.json
	@if command -v npm >/dev/null; then cd tests/js && npm install --no-audit --no-fund --silent && touch node_modules/.installed; \
	else echo "npm not found: SDK/browser tests will skip (CI installs it)"; fi

test: $(STAMP) var/secret_key tests/js/node_modules/.installed sdk-assets
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

lint-check: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

schema: $(STAMP) var/secret_key
	$(PY) manage.py spectacular --validate --fail-on-warn --file var/schema.yml

clean:
	rm -rf $(VENV) var

# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
FLASK := $(VENV)/bin/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
# The project's gettext functions besides the standard ones: _l (lazy), _ln (lazy plural), _lp (lazy, context).
BABEL_KEYWORDS := -k _l -k _ln:1,2 -k _lp:1c,2

.PHONY: run test install translations migrate demo lint messages bench

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

install: $(VENV)/.installed translations

## Compile the uk, ru and ro catalogues (the .mo files are built here, never committed); fails on a broken one
translations: $(VENV)/.installed
	$(VENV)/bin/pybabel -q compile -d crm/translations

migrate: install
	$(FLASK) db upgrade

## DEMO_LANGUAGE=uk|ru|ro|en: the demo data's language (and the interface's default while `make run` serves)
demo: migrate
	$(FLASK) crm demo $(if $(DEMO_LANGUAGE),--language $(DEMO_LANGUAGE))

## Set everything up, load demo data once and serve the CRM on http://127.0.0.1:5000
run: demo
	@echo "Open http://$(HOST):$(PORT) and log in with one of the demo logins above."
	$(if $(DEMO_LANGUAGE),DEFAULT_LOCALE=$${DEFAULT_LOCALE:-$(DEMO_LANGUAGE)}) \
	SCHEDULER_IN_WEB=1 PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://localhost:$(PORT)} $(FLASK) run --host $(HOST) --port $(PORT)

## The whole test suite (service, view and browser tests); TEST_DATABASE_URL=postgresql+psycopg://... for PostgreSQL
test: install
	bash scripts/test.sh

lint: install
	$(VENV)/bin/ruff check .

## Extract the user-facing strings into the template and update every catalogue (then translate what is new)
messages: install
	$(VENV)/bin/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) -o crm/translations/messages.pot .
	$(VENV)/bin/pybabel update -i crm/translations/messages.pot -d crm/translations

bench: install
	$(VENV)/bin/python -m bench.generate --customers 100000 --force
	$(VENV)/bin/python -m bench.run

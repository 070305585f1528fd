# make run   the app on http://127.0.0.1:5000 with demo data (SQLite in instance/)
# make test  lint, then the whole suite on SQLite and on a fresh PostgreSQL database
# Both start with scripts/setup.sh (.venv, pip, Debian packages), which skips what is done.

BIN := .venv/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: setup run test

setup:
	bash scripts/setup.sh

run: setup
	$(FLASK) db upgrade
	$(FLASK) demo load
	$(FLASK) run --host 127.0.0.1 --port 5000

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest
	$(BIN)/pytest --db=postgresql

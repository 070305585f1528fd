# make run   the app on http://127.0.0.1:5000 with demo data (SQLite in instance/), and a worker
# make test  lint, then the whole suite on SQLite and on a fresh PostgreSQL database
# Both start with scripts/setup.sh (.venv, pip, Debian packages), which skips what is done.

BIN := .venv/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: setup run test

setup:
	bash scripts/setup.sh

# One `flask worker` (Office → PDF conversions) runs beside the server and stops with it: on
# Ctrl-C, or when the server exits for any other reason.
run: setup
	$(FLASK) db upgrade
	$(FLASK) demo load
	$(FLASK) worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT; \
	trap 'exit 130' INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port 5000

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest
	$(BIN)/pytest --db=postgresql

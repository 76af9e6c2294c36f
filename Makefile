# Thinslice: `make run` brings up the demo on the embedded PostgreSQL with tasks inline; `make test`
# runs every test (on DATABASE_URL when set, else on the embedded PostgreSQL).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint worker bench-scores bench-growth bench-export bench-load bench-grid reset-db

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --if-empty
	@echo "Thinslice is starting on http://127.0.0.1:8000/ (log in with a demo login above; Ctrl-C stops it)"
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/mypy
	$(BIN)/lint-imports

worker: $(STAMP)
	$(BIN)/celery -A config worker --beat --loglevel=INFO

# Bulk score save over HTTP (gunicorn + PostgreSQL + a worker) beside a trivial endpoint.
bench-scores: $(STAMP)
	$(BIN)/python -m bench.score_bulk_save --students 2000 --clients 8 --seconds 20

# Full and incremental growth rebuild at 20 000 and 100 000 students beside one aggregate query.
bench-grid: $(STAMP)
	$(BIN)/python -m bench.score_grid_browser

bench-growth: $(STAMP)
	$(BIN)/python -m bench.growth_rebuild

# Student-level scores export over HTTP beside PostgreSQL's COPY, with peak memory.
bench-export: $(STAMP)
	$(BIN)/python -m bench.export_scores

# Load: teachers, coaches and district admins at once (Locust, installed if missing) against
# gunicorn + PostgreSQL + a worker; 0 server errors and 0 lost writes, p50/p95 per endpoint.
bench-load: $(STAMP)
	$(BIN)/python -m bench.load

# Stop the embedded PostgreSQL and delete its data (.postgres/): the next `make run` starts afresh.
reset-db: $(STAMP)
	$(BIN)/python -m config.embedded_postgres reset

# The two commands: `make run` (demo) and `make test` (full suite). See README.md.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
# The PostgreSQL pass of `make test` (pytest-django creates and drops test_wwt).
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/wwt
export WWT_TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run serve test chromium venv lint bench load clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

run: export WWT_CONFIG ?= config.demo.yml
run: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py install_schedules
	$(PY) manage.py load_demo_data
	@echo "== WWT on http://127.0.0.1:8080 (worker + beat and the demo's fake sources on :8081 alongside; Ctrl-C stops all)"
	@trap 'kill 0' INT TERM; \
	$(PY) manage.py serve_demo_sources --port 8081 & \
	$(VENV)/bin/celery -A wwt_project worker --beat --loglevel=INFO --concurrency=2 \
	    --schedule=var/celerybeat-schedule & \
	$(PY) manage.py runserver 127.0.0.1:8080 & \
	(sleep 3; $(PY) manage.py ingest_errors --no-progress) & \
	wait

# Production settings on the embedded default (SQLite + file broker): a smoke test of the real
# server, not a deployment (README: Production). gunicorn + worker + beat; Ctrl-C stops all.
SERVE_BIND ?= 127.0.0.1:8000
serve: venv
	@export DJANGO_DEBUG=false DJANGO_SECURE_SSL_REDIRECT=false ALLOWED_HOSTS=127.0.0.1,localhost \
	  DJANGO_EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend \
	  DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')}" \
	  WWT_BIND=$(SERVE_BIND) WEB_CONCURRENCY=$${WEB_CONCURRENCY:-2}; \
	set -e; \
	$(PY) manage.py migrate --noinput; \
	$(PY) manage.py collectstatic --noinput --verbosity 0; \
	$(PY) manage.py install_schedules; \
	echo "== WWT (production settings) on http://$(SERVE_BIND): gunicorn + worker + beat; Ctrl-C stops all"; \
	trap 'kill 0' INT TERM; \
	$(VENV)/bin/celery -A wwt_project worker --loglevel=INFO --concurrency=2 & \
	$(VENV)/bin/celery -A wwt_project beat --loglevel=INFO & \
	$(VENV)/bin/gunicorn -c python:wwt_project.gunicorn_conf wwt_project.wsgi & \
	wait

# The browser tests drive Debian's chromium (never a downloaded browser): installed when missing.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "== installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "== /usr/bin/chromium is missing (as root: apt-get install -y chromium): browser tests will skip"; \
	  fi; \
	fi

# First pass (SQLite): everything but the service-bound tests, browser and fuzz tests included.
test: venv chromium
	$(PY) -m pytest -m "not needs_services"
	@if $(PY) -c "import psycopg; psycopg.connect('$(PG_TEST_URL)'.rsplit('/', 1)[0] + '/postgres', connect_timeout=3).close()" 2>/dev/null; then \
	  echo "== PostgreSQL pass ($(PG_TEST_URL), Redis $(WWT_TEST_REDIS_URL))"; \
	  DATABASE_URL=$(PG_TEST_URL) $(PY) -m pytest -m "pg_too or needs_services"; \
	elif [ -n "$$WWT_REQUIRE_SERVICES" ]; then \
	  echo "PostgreSQL is not reachable at $(PG_TEST_URL) and WWT_REQUIRE_SERVICES is set"; exit 1; \
	else \
	  echo "== PostgreSQL not reachable: its pass was skipped (WWT_REQUIRE_SERVICES=1 makes this an error)"; \
	fi

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Every benchmark at BENCH_SIZES (default 1000,5000,20000) with its target and floor; on
# PostgreSQL when DATABASE_URL is set (pytest-django creates and drops test_<name>). README: Benchmarks.
bench: venv
	$(PY) -m pytest tests/benchmarks -s -p no:randomly -o python_files="bench_*.py" $(ARGS)

# getaction at 50 clients for 30 s through gunicorn (2 workers) on PostgreSQL + Redis, beside an
# ingestion and a recluster; fails on any error (README: Tests). DATABASE_URL / REDIS_URL override.
load: venv
	$(PY) tests/benchmarks/load_getaction.py $(LOAD_ARGS)

clean:
	rm -rf var staticfiles .pytest_cache .ruff_cache

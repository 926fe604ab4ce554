"""gunicorn's settings for WWT (`gunicorn -c python:wwt_project.gunicorn_conf wwt_project.wsgi`).

Each can be changed by environment variable, so the same command serves a laptop's smoke
test and a production node: WWT_BIND, WEB_CONCURRENCY (worker processes), WWT_WEB_THREADS,
WWT_WEB_TIMEOUT, FORWARDED_ALLOW_IPS (the TLS proxy's addresses).
"""

import multiprocessing
import os

bind = os.environ.get("WWT_BIND", "127.0.0.1:8000")
# Sync workers: the views are short database reads; a slow client is the proxy's to buffer.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("WWT_WEB_THREADS", "1"))
# A request still running after this is killed and its worker replaced (a frozen database must
# not hold a worker forever); longer work belongs in Celery tasks.
timeout = int(os.environ.get("WWT_WEB_TIMEOUT", "60"))
# The web workers keep their PostgreSQL connection between requests (set before the workers
# fork, so Django's settings see it): a gunicorn worker holds at most one per thread, a fixed
# WEB_CONCURRENCY x WWT_WEB_THREADS, and reconnecting on every request halved getaction's
# throughput under load (make load). Celery and manage.py keep the default of closing them.
os.environ.setdefault("WWT_DB_CONN_MAX_AGE", "60")
graceful_timeout = 30
# Recycle workers now and then so a slow leak cannot grow without bound; jitter spreads restarts.
max_requests = 5000
max_requests_jitter = 500
# Trust X-Forwarded-* only from the proxy in front (127.0.0.1 unless told otherwise).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"

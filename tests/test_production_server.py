"""The production server as README's Production section runs it: gunicorn with DJANGO_DEBUG=false,
static files collected and served by WhiteNoise (the smoke test `make serve` is for a person)."""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
KEY = "smoke-test-passphrase"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, server: subprocess.Popen, log: Path, seconds: float = 120) -> None:
    """Until a worker answers: gunicorn listens before its workers have imported Django."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"gunicorn exited with {server.returncode}: {log.read_text()}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/static/img/favicon.svg", timeout=60).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"gunicorn did not answer in time: {log.read_text()}")


def _get(url: str, body: bytes | None = None):
    request = urllib.request.Request(url, data=body, method="GET")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def production_server(tmp_path):
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "WWT_CONFIG")},
        "DJANGO_SETTINGS_MODULE": "wwt_project.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "WWT_ACTIONS_KEY": KEY,
        "WWT_VAR_DIR": str(tmp_path / "var"),
        "WWT_STATIC_ROOT": str(tmp_path / "static"),
        "WWT_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
    }
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput", "--verbosity", "0"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, timeout=120)
    log = tmp_path / "gunicorn.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [str(GUNICORN), "-c", "python:wwt_project.gunicorn_conf", "wwt_project.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(port, server, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_gunicorn_serves_pages_static_files_and_unified_with_production_settings(production_server):
    status, headers, body = _get(production_server + "/")
    assert status == 200
    page = body.decode()
    # Collected, hashed names (the manifest storage), served by WhiteNoise with a long cache life.
    stylesheet = next(part for part in page.split('"') if part.startswith("/static/css/wwt."))
    status, headers, _ = _get(production_server + stylesheet)
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert "max-age=315360000" in headers["Cache-Control"]
    # Production answers: no debug page, the security headers on.
    status, headers, body = _get(production_server + "/no/such/page")
    assert status == 404 and b"Traceback" not in body and b"URLconf" not in body
    assert headers["X-Frame-Options"] == "DENY"
    # Unified's getaction answers through gunicorn (a GET with a JSON body) and is never redirected.
    status, headers, body = _get(production_server + "/getaction?days=15", json.dumps({"key": KEY}).encode())
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert json.loads(body) == {}

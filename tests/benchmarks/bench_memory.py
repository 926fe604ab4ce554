"""Web process memory: the resident size (RSS) of a gunicorn worker (production settings, one
worker) after it served every page, at each size of targets.SIZES (demo data of that many
workflows: errors, history, past actions, a clustering and a trained predictor).

Run: `make bench ARGS="-k memory"` (`BENCH_SIZES=5000` for one size). Target (issue #16):
<= 150 MB after every page at 20k. The floor printed beside it is the same worker just
started (Django, the apps and the URL conf imported, no page served yet). The data lives in
an SQLite file of the run's own (WWT_VAR_DIR in a temporary directory), also when
DATABASE_URL is set: RSS hardly depends on the database driver, and no database is flushed.
"""

import http.client
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from .targets import SIZES, report

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
TARGET_MB = 150


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _numeric_libraries(pid: int) -> list[str]:
    """The numeric packages whose compiled modules process `pid` has mapped (imported)."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return [name for name in ("numpy", "scipy", "sklearn") if f"/site-packages/{name}/" in maps]


def _workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def _get(port: int, url: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        conn.request("GET", url)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _pages(env: dict) -> list[str]:
    code = (
        "import django; django.setup()\n"
        "from errors.models import ErrorCount\n"
        "from workflows.models import Workflow\n"
        "cell = ErrorCount.objects.select_related('step__workflow').first()\n"
        "names = list(Workflow.objects.order_by('pk').values_list('name', flat=True)[:5])\n"
        "print(cell.exit_code, cell.site, cell.step.name)\n"
        "print('\\n'.join(names))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    first, *names = out.stdout.strip().splitlines()
    code, site, step = first.split(" ", 2)
    pages = [
        "/",
        "/globalerror?pievar=errorcode",
        "/globalerror?pievar=sitename",
        "/globalerror?pievar=stepname",
        "/globalerror?pievar=errorcode&page=2",
        f"/listpage?errorcode={code}&sitename={site}",
        f"/explainerror?errorcode={code}&workflowstep={quote(step)}",
        "/procedures",
        "/sites",
        "/trends",
        "/showlog?search=error",
        "/actions/",
        "/cluster",
        "/cluster/projection.svg",
        "/api/docs/",
        "/api/schema/",
        "/accounts/login/",
    ]
    pages += [f"/seeworkflow?workflow={quote(name)}" for name in names]
    return pages


@pytest.mark.parametrize("size", SIZES)
def test_web_worker_memory_after_every_page(size, tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    port = _free_port()
    env.update(
        DJANGO_SETTINGS_MODULE="wwt_project.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        WWT_VAR_DIR=str(tmp_path),
        WWT_STATIC_ROOT=str(tmp_path / "static"),
        WWT_CONFIG=str(ROOT / "config.demo.yml"),
        WWT_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        WWT_LOG_LEVEL="WARNING",
    )
    for command in (
        ["migrate", "--noinput"],
        ["collectstatic", "--noinput"],
        ["load_demo_data", "--force", "--workflows", str(size)],
    ):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
        )
    pages = _pages(env)
    server = subprocess.Popen(
        [GUNICORN, "-c", "python:wwt_project.gunicorn_conf", "wwt_project.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                _get(port, "/favicon.ico")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
        (worker,) = _workers(server.pid)
        started_mb = _rss_mb(worker)
        statuses, growth = {}, {}
        seconds = {}
        for url in pages * 2:
            before = _rss_mb(worker)
            start = time.monotonic()
            statuses[url] = _get(port, url)
            seconds[url] = max(seconds.get(url, 0.0), time.monotonic() - start)
            assert Path(f"/proc/{worker}").exists(), f"the worker died serving {url} (WWT_WEB_TIMEOUT?)"
            growth[url] = growth.get(url, 0.0) + _rss_mb(worker) - before
        served_mb = _rss_mb(worker)
        numeric = _numeric_libraries(worker)
        assert _workers(server.pid) == [worker], "the worker was replaced while serving"
    finally:
        server.terminate()
        server.wait(timeout=60)
    biggest = sorted(growth.items(), key=lambda item: -item[1])[:4]
    print(
        "\n[bench] the pages that grew the worker most: "
        + ", ".join(f"{url[:50]} +{mb:.0f} MB" for url, mb in biggest)
        + f"; numeric libraries loaded by the worker: {', '.join(numeric) or 'none'}"
        + "; slowest: "
        + ", ".join(f"{url[:50]} {s:.1f} s" for url, s in sorted(seconds.items(), key=lambda i: -i[1])[:3])
    )
    failed = {url: status for url, status in statuses.items() if status >= 500}
    assert not failed, failed
    report(
        f"web worker RSS after every page ({len(pages)})",
        size,
        served_mb,
        "MB",
        target=TARGET_MB,
        floor=started_mb,
        floor_name="the worker at start",
    )

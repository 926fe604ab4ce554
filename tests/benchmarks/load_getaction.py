"""`make load`: Unified's getaction under load through the production server.

gunicorn (2 workers, production settings) on PostgreSQL and Redis; 1,000 pending actions stored.
First 50 clients call `GET /getaction?days=15` with Unified's JSON body for 30 s alone, then the
same clients call `/bare` (a plain view returning the same bytes, served by the same gunicorn:
tests/benchmarks/load_wsgi.py) for 30 s, and the throughput ratio is printed (issue #16's target:
getaction >= 0.8x the bare view). Then, unless --without-jobs, getaction again for 30 s while an
ingestion of 5,000 generated workflows and a recluster run beside it (each its own process, as
the worker would run them). Prints req/s, p50/p99 latency and errors of each phase; exits
non-zero on any error (an HTTP status other than 200, a body that is not the 1,000 actions, a
refused or timed-out request) or when the ingestion or the recluster failed. Only 127.0.0.1 is
contacted.

    .venv/bin/python tests/benchmarks/load_getaction.py [--clients 50] [--seconds 30]
"""

import argparse
import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
KEY = "load-test-passphrase"
PENDING_ACTIONS = 1_000
INGESTED_WORKFLOWS = 5_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ensure_database(url: str) -> None:
    """Create the load test's own database when it is missing (never touches another one)."""
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _environment(args, var_dir: Path, port: int) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "wwt_project.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "WWT_ACTIONS_KEY": KEY,
        "WWT_VAR_DIR": str(var_dir),
        "WWT_STATIC_ROOT": str(var_dir / "static"),
        "WWT_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(args.workers),
        "WWT_LOG_LEVEL": "WARNING",
    }


def _manage(env: dict, *command: str) -> None:
    subprocess.run([PY, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def _store_pending_actions(env: dict) -> None:
    """1,000 pending ACDCs submitted in the last 15 days, written in bulk as the bench does."""
    code = f"""
import django; django.setup()
from datetime import timedelta
from django.utils import timezone
from accounts.models import User
from actions.models import Action, ActionKind
from workflows.models import Workflow
user = User.objects.create(username="loadtester")
now = timezone.now()
workflows = Workflow.objects.bulk_create(
    [Workflow(name=f"pdmvserv_task_LOAD-RunIISummer20UL18-{{i:05d}}__v1_T_240115_123456_{{i}}", prep_id=f"LOAD-{{i}}")
     for i in range({PENDING_ACTIONS})], batch_size=500)
actions = []
for i, wf in enumerate(workflows):
    task = wf.name[14:50] + "_0"
    action = Action(
        workflow=wf, action=ActionKind.ACDC, user=user, acdcs=[],
        parameters={{task: {{"sites": ["T1_US_FNAL", "T2_CH_CERN"], "memory": 4000, "multicore": 4}},
                    task + "/" + task + "MergeRAWSIMoutput": {{"sites": ["T2_CH_CERN"], "memory": 4000}}}},
        reasons=[{{"short": "memory", "long": "Jobs exceed the memory limit (exit code 50660)."}}],
        submitted_at=now - timedelta(hours=i % 300))
    action.render_served(username=user.username, workflow_name=wf.name)
    actions.append(action)
Action.objects.bulk_create(actions, batch_size=500)
"""
    subprocess.run([PY, "-c", code], cwd=ROOT, env=env, check=True)


def _write_errors(path: Path, n_workflows: int, seed: int, env: dict) -> None:
    code = (
        "import django, json, sys; django.setup()\n"
        "from errors import demo\n"
        f"json.dump(demo.generate_error_document({n_workflows}, seed={seed}), open(sys.argv[1], 'w'))\n"
    )
    subprocess.run([PY, "-c", code, str(path)], cwd=ROOT, env=env, check=True)


def _wait_until_served(port: int, server: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        status, _ = _getaction(port, timeout=60)
        if status == 200:
            return
        time.sleep(0.3)
    raise SystemExit("gunicorn did not answer in time")


BODY = json.dumps({"key": KEY})


def _getaction(port: int, timeout: float, path: str = "/getaction") -> tuple[int | str, bytes]:
    """One call as Unified's client makes it: a GET with a JSON body, a fresh connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", f"{path}?days=15", body=BODY, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    except OSError as exc:
        return type(exc).__name__, b""
    finally:
        conn.close()


def _client(port: int, stop_at: float, latencies: list, errors: list, path: str) -> None:
    while time.monotonic() < stop_at:
        start = time.perf_counter()
        status, body = _getaction(port, timeout=60, path=path)
        elapsed = time.perf_counter() - start
        if status != 200:
            errors.append(f"{status}: {body[:200]!r}")
            continue
        # Counting entries in the bytes keeps the clients' own CPU small (the first answer was
        # parsed in full before the run); a parse of 1,000 entries per call would compete with
        # the server for this machine's cores.
        served = body.count(b'"Action": ')
        if served != PENDING_ACTIONS:
            errors.append(f"{served} actions served, not {PENDING_ACTIONS}")
            continue
        latencies.append(elapsed)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return (len(self.latencies) + len(self.errors)) / self.seconds if self.seconds else 0.0

    def print(self) -> None:
        total = len(self.latencies) + len(self.errors)
        print(f"   {self.name}: {total:,} requests in {self.seconds:.1f} s = {self.rate:.1f} req/s")
        if self.latencies:
            print(
                f"   latency: p50 {statistics.median(self.latencies) * 1000:.0f} ms, "
                f"p99 {_percentile(self.latencies, 0.99) * 1000:.0f} ms, max {max(self.latencies) * 1000:.0f} ms"
            )
        print(f"   errors: {len(self.errors)}")
        for error in sorted(set(self.errors))[:10]:
            print(f"     {self.errors.count(error)} x {error}")


def _run_clients(phase: Phase, port: int, clients: int, seconds: float, path: str) -> Phase:
    started = time.monotonic()
    stop_at = started + seconds
    threads = [
        threading.Thread(target=_client, args=(port, stop_at, phase.latencies, phase.errors, path))
        for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.seconds = time.monotonic() - started
    return phase


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--without-jobs", action="store_true", help="no ingestion or recluster beside")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/wwt_load",
    )
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/7")
    args = parser.parse_args()

    _ensure_database(args.database_url)
    port = _free_port()
    phases: list[Phase] = []
    jobs_failed = []
    with tempfile.TemporaryDirectory(prefix="wwt-load-") as tmp:
        var_dir = Path(tmp)
        env = _environment(args, var_dir, port)
        print(f"== setting up {args.database_url} (flushed), {PENDING_ACTIONS:,} pending actions", flush=True)
        _manage(env, "migrate", "--noinput")
        _manage(env, "flush", "--noinput")
        _manage(env, "collectstatic", "--noinput")
        _store_pending_actions(env)
        # A first snapshot, so the recluster has errors to work on; the run's ingestion replaces it.
        first, second = var_dir / "first.json", var_dir / "second.json"
        _write_errors(first, INGESTED_WORKFLOWS, seed=1, env=env)
        _write_errors(second, INGESTED_WORKFLOWS, seed=2, env=env)
        _manage(env, "ingest_errors", "--no-progress", str(first))

        log = (var_dir / "gunicorn.log").open("w")
        server = subprocess.Popen(
            # WWT's own app plus /bare (tests/benchmarks/load_wsgi.py), the floor of the same server.
            [GUNICORN, "-c", "python:wwt_project.gunicorn_conf", "tests.benchmarks.load_wsgi"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_served(port, server)
            alone: dict[str, list[float]] = {"/getaction": [], "/bare": []}
            for _ in range(20):
                for path, times in alone.items():
                    start = time.perf_counter()
                    status, body = _getaction(port, timeout=60, path=path)
                    times.append(time.perf_counter() - start)
            served = json.loads(body)
            if len(served) != PENDING_ACTIONS or body.count(b'"Action": ') != PENDING_ACTIONS:
                raise SystemExit(f"getaction served {len(served)} actions, not {PENDING_ACTIONS}")
            if _getaction(port, timeout=60, path="/getaction")[1] != body:
                raise SystemExit("/bare does not serve getaction's bytes")
            print(
                f"   one client alone: getaction median {statistics.median(alone['/getaction']) * 1000:.1f} ms "
                f"a request, bare view {statistics.median(alone['/bare']) * 1000:.1f} ms",
                flush=True,
            )
            print(
                f"== {args.clients} clients x {args.seconds:.0f} s of getaction?days=15, then of /bare "
                f"(the same bytes from a plain view), on gunicorn ({args.workers} workers)",
                flush=True,
            )
            for name, url in (("getaction alone", "/getaction"), ("bare view", "/bare")):
                phases.append(_run_clients(Phase(name), port, args.clients, args.seconds, url))
                phases[-1].print()
            ratio = phases[0].rate / phases[1].rate if phases[1].rate else 0.0
            print(f"   getaction / bare view throughput: {ratio:.2f}x (target >= 0.8x)", flush=True)
            if not args.without_jobs:
                print(
                    f"== getaction again while ingesting {INGESTED_WORKFLOWS:,} workflows and reclustering",
                    flush=True,
                )
                background = {
                    name: subprocess.Popen(
                        [PY, "manage.py", *command],
                        cwd=ROOT,
                        env=env,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT,
                    )
                    for name, command in (
                        ("ingestion", ["ingest_errors", "--no-progress", str(second)]),
                        ("recluster", ["recluster", "--no-progress"]),
                    )
                }
                phases.append(
                    _run_clients(
                        Phase("getaction beside the jobs"), port, args.clients, args.seconds, "/getaction"
                    )
                )
                for name, job in background.items():
                    output = job.communicate(timeout=1800)[0].decode(errors="replace").strip()
                    last = output.splitlines()[-1] if output else ""
                    print(f"   {name}: exit {job.returncode} ({last})")
                    if job.returncode:
                        jobs_failed.append(f"{name} failed: {output[-2000:]}")
                phases[-1].print()
        finally:
            server.terminate()
            server.wait(timeout=60)
            log.close()
        gunicorn_log = (var_dir / "gunicorn.log").read_text()

    if any(phase.errors or not phase.latencies for phase in phases) or jobs_failed or not phases:
        for failure in jobs_failed:
            print(f"   {failure}")
        print("   gunicorn's log (end):\n" + "\n".join(gunicorn_log.splitlines()[-20:]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

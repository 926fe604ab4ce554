"""Throwaway servers for the fault tests: never the shared Redis or PostgreSQL, which
other test runs use. Each fixture starts its own instance on a free port and stops it."""

import shutil
import socket
import subprocess
import time

import pytest

from tests.conftest import REQUIRE_SERVICES


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, up: bool, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            if up:
                return
        except OSError:
            if not up:
                return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} did not come {'up' if up else 'down'}")


def _need(binary: str) -> str:
    path = shutil.which(binary)
    if not path:
        message = f"{binary} is not installed"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return path


class ThrowawayRedis:
    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [_need("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port, up=True)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        wait_for_port(self.port, up=False)


@pytest.fixture
def throwaway_redis():
    """A Redis of this test's own, started; `.stop()` it to simulate Redis going down."""
    redis = ThrowawayRedis()
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture
def use_broker():
    """use_broker(url): send tasks for real (not eagerly) to the broker at `url`."""
    from celery import current_app

    from wwt_project.celery import app

    saved = app.conf.broker_url, app.conf.broker_transport_options
    # Tasks are shared tasks: they send through the current app, which another test's
    # Celery(broker=...) may have become.
    previous_app = current_app._get_current_object()
    app.set_current()

    def forget_connections():
        # Celery caches its connection and producer pools: new ones for a changed broker URL.
        app._pool = None
        app.amqp._producer_pool = None

    def use(url: str) -> None:
        app.conf.task_always_eager = False
        app.conf.broker_url = url
        app.conf.broker_transport_options = {"socket_connect_timeout": 1, "socket_timeout": 1}
        forget_connections()

    yield use
    app.conf.broker_url, app.conf.broker_transport_options = saved
    forget_connections()
    previous_app.set_current()

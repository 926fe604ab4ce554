"""Fault: the database is down, or frozen (accepts connections and never answers).

Before: Unified's getaction/reportaction answered Django's HTML 500 (their contract: plain text,
resp. the five-key JSON object), pages Django's 500, and a frozen database hung every request
with no limit. Now: connect and statement timeouts, and 503s in each caller's shape."""

import json
import socket
import threading

import pytest
from django.db import OperationalError, connection
from django.test import Client

from tests.conftest import REQUIRE_SERVICES
from tests.faults.conftest import free_port

FIVE_KEYS = {"valid_key", "valid_format", "success", "already_reported", "does_not_exist"}
KEY = "test-passphrase"


def assert_contract_503s(client):
    got = client.generic("GET", "/getaction", json.dumps({"key": KEY}), content_type="application/json")
    assert got.status_code == 503 and got["Content-Type"].startswith("text/plain")
    assert "database is unreachable" in got.content.decode()

    reported = client.post(
        "/reportaction", json.dumps({"key": KEY, "workflows": ["wf_a"]}), content_type="application/json"
    )
    assert reported.status_code == 503 and reported["Content-Type"] == "application/json"
    assert set(reported.json()) == FIVE_KEYS and reported.json()["success"] == []

    page = client.get("/globalerror")
    assert page.status_code == 503 and b"Temporarily unavailable" in page.content
    assert b"Traceback" not in page.content and b"Server Error" not in page.content


# -- the database fails inside the views (both passes) --------------------------------------


@pytest.mark.pg_too
@pytest.mark.django_db
def test_a_failing_database_answers_each_caller_s_shape_with_503(monkeypatch, settings):
    settings.WWT_ACTIONS_KEY = KEY

    def down(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    from actions import served as action_served
    from actions import services as action_services
    from errors import views as error_views

    # getaction's first query reads the version of the actions (actions/served.py).
    monkeypatch.setattr(action_served, "served_version", down)
    monkeypatch.setattr(action_services, "mark_reported", down)
    monkeypatch.setattr(error_views, "global_view", down)
    assert_contract_503s(Client())


# -- the real PostgreSQL, unreachable or frozen (PostgreSQL pass) ----------------------------


@pytest.fixture
def postgresql_only():
    if connection.vendor != "postgresql":
        if REQUIRE_SERVICES:
            pytest.fail("the database fault tests need PostgreSQL (DATABASE_URL)")
        pytest.skip("needs PostgreSQL")


@pytest.fixture
def database_at(postgresql_only, settings):
    """database_at(port): the next connections go to 127.0.0.1:port instead of the real server."""
    settings.WWT_ACTIONS_KEY = KEY
    real = dict(connection.settings_dict)

    def point(port: int) -> None:
        connection.close()
        connection.settings_dict.update(HOST="127.0.0.1", PORT=port)

    yield point
    connection.close()
    connection.settings_dict.update(HOST=real["HOST"], PORT=real["PORT"])


class FrozenServer:
    """Accepts TCP connections and never answers: a database that hangs."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.port = self.sock.getsockname()[1]

    def close(self):
        self.sock.close()


def _answered(run, seconds: float = 60):
    # A hang detector, not a timing assertion: without a connect timeout this never returns.
    done = threading.Event()
    thread = threading.Thread(target=lambda: (run(), done.set()), daemon=True)
    thread.start()
    thread.join(seconds)
    return done.is_set()


@pytest.mark.needs_services
@pytest.mark.django_db(transaction=True)
def test_postgresql_down_answers_503_in_the_contract_shapes(database_at):
    database_at(free_port())  # nothing listens there
    assert_contract_503s(Client())


@pytest.mark.needs_services
@pytest.mark.django_db(transaction=True)
def test_a_frozen_postgresql_answers_503_instead_of_hanging(database_at):
    frozen = FrozenServer()
    database_at(frozen.port)
    answers = []
    try:
        assert _answered(
            lambda: answers.append(
                Client().generic(
                    "GET", "/getaction", json.dumps({"key": KEY}), content_type="application/json"
                )
            )
        ), "getaction hung"
    finally:
        frozen.close()
    assert answers[0].status_code == 503 and answers[0]["Content-Type"].startswith("text/plain")


@pytest.mark.needs_services
@pytest.mark.django_db
def test_statements_have_a_time_limit(postgresql_only):
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] not in ("0", "0ms")

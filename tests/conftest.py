"""The cast and the test-only settings (MD5 hasher, in-memory mail, eager Celery)."""

import os
import socket
from urllib.parse import urlparse

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from tests.factories import UserFactory

REQUIRE_SERVICES = bool(os.environ.get("WWT_REQUIRE_SERVICES"))
TEST_REDIS_URL = os.environ.get("WWT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.WWT_LOCK_DIR = tmp_path / "locks"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from actions.models import ServedTokenLease
    from wwt_project.celery import app

    # getaction's lease on the served token names a token of an earlier test's database.
    ServedTokenLease.end()
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


def require_service(url: str, name: str) -> None:
    """Skip (locally) or fail (CI, WWT_REQUIRE_SERVICES=1) when a real service is down."""
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname, parsed.port), timeout=2).close()
    except OSError:
        message = f"{name} is not reachable at {parsed.hostname}:{parsed.port}"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def redis_url():
    require_service(TEST_REDIS_URL, "Redis")
    return TEST_REDIS_URL


def _make_user(username: str, *, verified: bool, **extra):
    user = UserFactory(username=username, email=f"{username}@cern.ch", **extra)
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=verified)
    return user


@pytest.fixture
def admin_user(db, django_user_model):
    """pytest-django's admin (behind its admin_client), with the verified address the admin requires."""
    user = django_user_model.objects.create_superuser("admin", "admin@example.com", "password")
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return user


@pytest.fixture
def verified_operator(db):
    return _make_user("alice", verified=True)


@pytest.fixture
def other_operator(db):
    return _make_user("bob", verified=True)


@pytest.fixture
def unverified_user(db):
    return _make_user("charlie", verified=False)


@pytest.fixture
def operator_client(verified_operator):
    client = Client()
    client.force_login(verified_operator)
    return client


@pytest.fixture
def unverified_client(unverified_user):
    client = Client()
    client.force_login(unverified_user)
    return client

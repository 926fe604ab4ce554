"""Login rate limits behind a proxy and per account, the admin re-check, security headers."""

import re
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.pg_too]

TOO_MANY = "Too many failed login attempts"


def _login(login: str, password: str, *, forwarded_for: str | None = None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    return Client().post("/accounts/login/", {"login": login, "password": password}, **headers)


@pytest.fixture
def alice_with_password(verified_operator):
    verified_operator.set_password("correct horse")
    verified_operator.save()
    return verified_operator


def test_behind_the_proxy_the_limit_counts_the_client_not_the_proxy(settings, alice_with_password):
    settings.WWT_TRUSTED_PROXY_COUNT = 1  # every request comes from the proxy at REMOTE_ADDR 127.0.0.1
    for attempt in range(10):  # one attacker, ten accounts: the per-address limit
        _login(f"nobody{attempt}", "guess", forwarded_for="203.0.113.5")
    assert TOO_MANY in _login("nobody99", "guess", forwarded_for="203.0.113.5").content.decode()
    # Forging entries to the left changes nothing: the proxy's own entry is the rightmost.
    assert TOO_MANY in _login("nobody98", "x", forwarded_for="192.0.2.1, 203.0.113.5").content.decode()
    # Everyone else behind the same proxy still logs in.
    assert _login("alice", "correct horse", forwarded_for="198.51.100.7").status_code == 302


def test_without_a_trusted_proxy_the_header_is_ignored(settings, alice_with_password):
    settings.WWT_TRUSTED_PROXY_COUNT = 0
    for attempt in range(10):
        _login(f"nobody{attempt}", "guess", forwarded_for=f"203.0.113.{attempt}")  # forged, varying
    assert TOO_MANY in _login("nobody99", "guess", forwarded_for="198.51.100.7").content.decode()


def test_username_and_e_mail_share_one_failure_budget(alice_with_password):
    for attempt in range(5):  # 5 per account in 5 minutes, whichever name is typed
        login = "alice" if attempt % 2 else "ALICE@cern.ch"
        assert TOO_MANY not in _login(login, "wrong", forwarded_for=None).content.decode()
    refused = _login("alice", "correct horse")
    assert refused.status_code == 200 and TOO_MANY in refused.content.decode()
    assert TOO_MANY in _login("alice@cern.ch", "correct horse").content.decode()


def test_a_staff_member_whose_address_became_unverified_loses_the_admin(admin_client, admin_user):
    assert admin_client.get("/admin/").status_code == 200
    EmailAddress.objects.filter(user=admin_user).update(verified=False)
    response = admin_client.get("/admin/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert admin_client.get("/admin/accounts/user/").status_code == 302


@pytest.mark.parametrize("url", ["/", "/globalerror", "/accounts/login/", "/getaction", "/api/docs/"])
def test_every_response_carries_csp_and_permissions_policy(client, url):
    response = client.get(url)
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "camera=()" in response["Permissions-Policy"]


def test_templates_hold_no_inline_script_or_event_handler():
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
    handler = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
    offenders = []
    for path in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        text = path.read_text()
        if inline_script.search(text) or handler.search(text):
            offenders.append(str(path))
    assert not offenders

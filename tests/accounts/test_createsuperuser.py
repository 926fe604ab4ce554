"""createsuperuser gives an admin who can open /admin/ at once (the admin needs a verified address)."""

import io

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.test import Client

from accounts.models import User


@pytest.fixture
def superuser_password(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-enough-password-1")


def test_the_new_superuser_s_address_is_verified_and_the_admin_opens(db, superuser_password):
    out = io.StringIO()
    call_command("createsuperuser", interactive=False, username="root", email="Root@Example.org", stdout=out)
    root = User.objects.get(username="root")
    address = EmailAddress.objects.get(user=root)
    assert address.verified and address.primary and address.email == "root@example.org"
    assert "root" in out.getvalue()

    client = Client()
    client.force_login(root)
    assert client.get("/admin/").status_code == 200


def test_other_users_are_left_alone(db, superuser_password, unverified_user):
    call_command(
        "createsuperuser", interactive=False, username="root", email="root@example.org", stdout=io.StringIO()
    )
    assert not EmailAddress.objects.get(user=unverified_user).verified


def test_a_superuser_without_an_address_is_told_why_the_admin_stays_closed(db, superuser_password):
    err = io.StringIO()
    call_command(
        "createsuperuser", interactive=False, username="root", email="", stdout=io.StringIO(), stderr=err
    )
    assert "root cannot open /admin/ yet: has no e-mail address" in err.getvalue()
    assert not EmailAddress.objects.exists()
    client = Client()
    client.force_login(User.objects.get(username="root"))
    assert client.get("/admin/").status_code == 302

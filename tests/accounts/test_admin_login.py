"""The admin signs in through allauth: its rate limit and e-mail verification apply there too."""

from urllib.parse import parse_qs, urlparse

import pytest
from allauth.account.models import EmailAddress

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def _staff(username="boss", *, verified):
    user = UserFactory(username=username, is_staff=True, is_superuser=True)
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=verified)
    return user


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_admin_login_page_sends_visitors_to_the_allauth_login(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    location = urlparse(response["Location"])
    assert location.path == "/accounts/login/"
    assert parse_qs(location.query) == {"next": ["/admin/"]}


def test_an_anonymous_visit_to_the_admin_ends_on_the_allauth_login(client):
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/?next=%2Fadmin%2F"
    assert '<header class="topbar">' in response.content.decode()  # the house login page


def test_the_admin_login_form_no_longer_logs_anyone_in(client):
    _staff(verified=True)
    response = client.post("/admin/login/", {"username": "boss", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not _logged_in(client)


def test_a_staff_user_with_an_unverified_address_does_not_reach_the_admin(client, mailoutbox):
    _staff(verified=False)
    response = client.post("/accounts/login/?next=/admin/", {"login": "boss", "password": PASSWORD})
    assert response["Location"] == "/accounts/confirm-email/"
    assert not _logged_in(client)
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_a_staff_operator_logged_in_through_allauth_reaches_the_admin(client):
    boss = _staff(verified=True)
    login_page = client.get("/admin/", follow=True).redirect_chain[-1][0]
    response = client.post(login_page, {"login": "boss", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert int(client.session["_auth_user_id"]) == boss.pk
    admin_index = client.get("/admin/")
    assert admin_index.status_code == 200
    assert "Site administration" in admin_index.content.decode()
    # Already signed in, the admin's login address just passes them on to the admin.
    assert client.get("/admin/login/?next=/admin/")["Location"] == "/admin/"


def test_the_admin_login_refuses_signed_in_operators_who_are_not_staff(operator_client):
    assert operator_client.get("/admin/login/").status_code == 403

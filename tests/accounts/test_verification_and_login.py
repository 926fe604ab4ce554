"""From sign-up to a verified operator: the e-mailed link, logging in, the old paths."""

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache
from django.test import Client

from accounts.models import User
from accounts.permissions import is_verified_operator
from tests.accounts.steps import PASSWORD, link_in, sign_up
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_emailed_link_verifies_the_address_and_logs_the_operator_in(client, mailoutbox):
    sign_up(client, username="dana", email="dana@cern.ch")
    user = User.objects.get(username="dana")
    assert not is_verified_operator(user)

    link = link_in(mailoutbox[0])
    assert link.startswith("/accounts/confirm-email/")
    page = client.get(link)
    assert page.status_code == 200
    assert "dana@cern.ch" in page.content.decode()
    # Opening the link alone changes nothing (mail scanners open links); the button does.
    assert not EmailAddress.objects.get(user=user).verified

    response = client.post(link)
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    assert is_verified_operator(user)
    assert client.get("/accounts/email/").context["user"] == user  # logged in by the confirmation


def test_a_forged_link_verifies_nothing(client, mailoutbox):
    sign_up(client)
    response = client.post("/accounts/confirm-email/not-a-real-key/")
    assert response.status_code in (200, 404)
    assert not EmailAddress.objects.get(email="dana@cern.ch").verified


def test_an_unverified_operator_cannot_log_in_and_is_sent_a_new_link(mailoutbox):
    sign_up(Client(), username="dana", email="dana@cern.ch")
    mailoutbox.clear()
    client = Client()
    response = client.post("/accounts/login/", {"login": "dana", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session
    assert mailoutbox == []  # within the re-send cool-down (3 minutes) nothing new is sent
    page = client.get("/accounts/confirm-email/")
    assert "Verify Your Email Address" in page.content.decode()

    cache.clear()  # the cool-down is over
    client.post("/accounts/login/", {"login": "dana", "password": PASSWORD})
    assert [m.to for m in mailoutbox] == [["dana@cern.ch"]]
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("login", ["alice", "ALICE", "alice@cern.ch", "Alice@CERN.ch"])
def test_a_verified_operator_logs_in_by_username_or_email(verified_operator, login):
    client = Client()
    response = client.post("/accounts/login/", {"login": login, "password": "correct horse battery staple"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert int(client.session["_auth_user_id"]) == verified_operator.pk


def test_a_createsuperuser_name_with_capitals_logs_in(db):
    admin = UserFactory(username="WebMaster", email="wm@cern.ch", is_staff=True, is_superuser=True)
    EmailAddress.objects.create(user=admin, email="wm@cern.ch", primary=True, verified=True)
    client = Client()
    response = client.post(
        "/accounts/login/", {"login": "WebMaster", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == admin.pk


def test_repeated_failed_logins_are_rate_limited(verified_operator):
    client = Client()
    for _ in range(5):
        response = client.post("/accounts/login/", {"login": "alice", "password": "wrong"})
        assert "Too many failed login attempts" not in response.content.decode()
    # The sixth try within five minutes is refused, even with the right password.
    response = client.post("/accounts/login/", {"login": "alice", "password": "correct horse battery staple"})
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_login_page_is_in_the_house_layout(client):
    html = client.get("/accounts/login/").content.decode()
    assert 'href="/globalerror"' in html
    assert 'href="/accounts/password/reset/"' in html
    assert "csrfmiddlewaretoken" in html


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/newuser", "/accounts/signup/"),
        ("/newuser/", "/accounts/signup/"),
        ("/resetpassword", "/accounts/password/reset/"),
        ("/confirmuser", "/accounts/email/"),
    ],
)
def test_the_original_paths_redirect_to_the_allauth_pages(client, old, new):
    response = client.get(old)
    assert response.status_code == 302
    assert response["Location"] == new
    assert client.get(new, follow=True).status_code == 200


def test_the_email_page_has_account_tabs_and_verification_state(operator_client):
    html = operator_client.get("/accounts/email/").content.decode()
    assert 'href="/accounts/password/change/"' in html
    assert "alice@cern.ch" in html
    assert "badge-verified" in html
    assert 'href="/globalerror"' in html


def test_a_createsuperuser_admin_verifies_by_the_link_mailed_at_first_login(mailoutbox):
    User.objects.create_superuser("Boss", "boss@cern.ch", "correct horse battery staple")
    client = Client()
    response = client.post("/accounts/login/", {"login": "Boss", "password": "correct horse battery staple"})
    assert response["Location"] == "/accounts/confirm-email/"
    client.post(link_in(mailoutbox[-1]))
    assert is_verified_operator(User.objects.get(username="Boss"))


@pytest.mark.parametrize(
    "path",
    ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/", "/accounts/password/reset/done/"],
)
def test_the_public_account_pages_use_the_house_layout(client, path):
    response = client.get(path)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<header class="topbar">' in html
    assert "Workflow Team Web Tools</title>" in html


@pytest.mark.parametrize("path", ["/accounts/email/", "/accounts/password/change/", "/accounts/logout/"])
def test_the_signed_in_account_pages_use_the_house_layout(operator_client, path):
    response = operator_client.get(path)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<header class="topbar">' in html
    assert "csrfmiddlewaretoken" in html

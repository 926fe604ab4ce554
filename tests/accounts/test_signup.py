"""Sign-up: who may open an account, and what they are told when they may not."""

import pytest
from allauth.account.models import EmailAddress
from django.db import IntegrityError, transaction

from accounts.models import User
from tests.accounts.steps import sign_up
from tests.factories import UserFactory

# Case-insensitive lookups and partial unique constraints differ between SQLite and PostgreSQL.
pytestmark = [pytest.mark.django_db, pytest.mark.pg_too]


def test_the_signup_page_shows_the_allowed_domains_in_the_house_layout(client):
    response = client.get("/accounts/signup/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<strong>cern.ch</strong> or <strong>example.org</strong>" in html
    assert 'href="/globalerror"' in html  # the site's navigation: base.html, not allauth's bare page
    assert 'class="account-form' in html
    assert "csrfmiddlewaretoken" in html
    # Whitelisted addresses are not published.
    assert "fnal.gov" not in html.lower()


def test_an_address_at_an_allowed_domain_signs_up_unverified(client, mailoutbox):
    response = sign_up(client, username="Dana", email="dana@example.org")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(username="Dana")
    assert user.email == "dana@example.org"
    assert EmailAddress.objects.filter(user=user, primary=True, verified=False).count() == 1
    assert [m.to for m in mailoutbox] == [["dana@example.org"]]


def test_a_whitelisted_address_signs_up_whatever_its_domain_and_case(client, mailoutbox):
    response = sign_up(client, username="guest", email="guest@fnal.gov")
    assert response.status_code == 302
    assert User.objects.filter(username="guest", email="guest@fnal.gov").exists()
    assert len(mailoutbox) == 1


@pytest.mark.parametrize(
    "email",
    ["eve@gmail.com", "other@fnal.gov", "eve@evil-cern.ch", "eve@cern.ch.evil.com", "eve@sub.cern.ch"],
)
def test_an_address_outside_the_allowed_domains_is_refused_naming_the_rule(client, mailoutbox, email):
    response = sign_up(client, username="eve", email=email)
    assert response.status_code == 200
    errors = response.context["form"].errors["email"]
    assert errors == [
        "Accounts are only open to e-mail addresses at cern.ch or example.org. If you need another "
        "address, ask the webmaster (webmaster@example.org) to whitelist it."
    ]
    assert "Accounts are only open to e-mail addresses at cern.ch or example.org" in response.content.decode()
    assert not User.objects.exists()
    assert mailoutbox == []


def test_allowed_domains_follow_the_configuration(client, settings):
    settings.WWT = {**settings.WWT, "accounts": {"allowed_domains": ["fnal.gov"], "whitelisted_emails": []}}
    assert sign_up(client, username="eve", email="eve@cern.ch").status_code == 200
    assert sign_up(client, username="frank", email="frank@FNAL.gov").status_code == 302
    assert list(User.objects.values_list("username", flat=True)) == ["frank"]


@pytest.mark.parametrize("username", ["dana.s", "dana-s", "dana_s", "dana s", "d@na", "dané", "ｄａｎａ"])
def test_a_username_with_anything_but_letters_and_digits_is_refused(client, mailoutbox, username):
    response = sign_up(client, username=username)
    assert response.status_code == 200
    assert "may contain only letters (A-Z, a-z) and digits (0-9)" in " ".join(
        response.context["form"].errors["username"]
    )
    assert not User.objects.exists()
    assert mailoutbox == []


def test_an_empty_username_is_refused(client):
    response = sign_up(client, username="   ")
    assert response.status_code == 200
    assert "username" in response.context["form"].errors
    assert not User.objects.exists()


def test_a_username_taken_in_another_case_is_refused(client, mailoutbox):
    UserFactory(username="Alice", email="alice@cern.ch")  # e.g. made by createsuperuser
    response = sign_up(client, username="aLiCe", email="someone@cern.ch")
    assert response.status_code == 200
    assert response.context["form"].errors["username"] == [
        "The username \u201caLiCe\u201d is already taken "
        "(usernames are compared without regard to upper and lower case)."
    ]
    assert User.objects.count() == 1
    assert mailoutbox == []


def test_the_database_refuses_a_username_differing_only_in_case():
    # Two sign-ups racing past the form's check, or createsuperuser: the database has the last word.
    User.objects.create_user("Alice", "alice@cern.ch", "correct horse battery staple")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("alice", "other@cern.ch", "correct horse battery staple")
    assert list(User.objects.values_list("username", flat=True)) == ["Alice"]


def test_django_password_validators_apply(client):
    response = sign_up(client, password="12345678")
    assert response.status_code == 200
    assert "password1" in response.context["form"].errors
    assert not User.objects.exists()


def test_adding_an_address_later_follows_the_same_rule(operator_client, verified_operator):
    response = operator_client.post("/accounts/email/", {"action_add": "", "email": "alice@gmail.com"})
    assert response.status_code == 200
    assert "Accounts are only open to e-mail addresses at" in response.content.decode()
    assert not EmailAddress.objects.filter(email="alice@gmail.com").exists()

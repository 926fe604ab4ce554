"""Password reset and change, and what the account e-mails look like."""

import pytest
from django.test import Client

from tests.accounts.conftest import WEBMASTER
from tests.accounts.steps import PASSWORD, link_in, sign_up

pytestmark = pytest.mark.django_db

OLD = "correct horse battery staple"
NEW = "a brand new passphrase 42"


def _logs_in(login, password) -> bool:
    client = Client()
    client.post("/accounts/login/", {"login": login, "password": password})
    return "_auth_user_id" in client.session


def test_the_reset_link_sets_a_new_password_and_the_old_one_stops_working(verified_operator, mailoutbox):
    client = Client()
    response = client.post("/accounts/password/reset/", {"email": "alice@cern.ch"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    link = link_in(mailoutbox[0])
    assert link.startswith("/accounts/password/reset/key/")

    # allauth moves the key out of the URL into the session before showing the form.
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    assert 'name="password1"' in form_page.content.decode()
    set_password_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
    response = client.post(set_password_url, {"password1": NEW, "password2": NEW})
    assert response.status_code == 302

    verified_operator.refresh_from_db()
    assert verified_operator.check_password(NEW)
    assert not _logs_in("alice", OLD)
    assert _logs_in("alice", NEW)


def test_a_reset_link_works_only_once(verified_operator, mailoutbox):
    client = Client()
    client.post("/accounts/password/reset/", {"email": "alice@cern.ch"})
    link = link_in(mailoutbox[0])
    page = client.get(link, follow=True)
    client.post(page.redirect_chain[-1][0], {"password1": NEW, "password2": NEW})

    again = Client().get(link, follow=True)
    assert 'name="password1"' not in again.content.decode()
    verified_operator.refresh_from_db()
    assert verified_operator.check_password(NEW)


def test_a_weak_new_password_is_refused_and_nothing_changes(verified_operator, mailoutbox):
    client = Client()
    client.post("/accounts/password/reset/", {"email": "alice@cern.ch"})
    page = client.get(link_in(mailoutbox[0]), follow=True)
    response = client.post(page.redirect_chain[-1][0], {"password1": "password", "password2": "password"})
    assert response.status_code == 200
    assert "This password is too common." in response.content.decode()
    verified_operator.refresh_from_db()
    assert verified_operator.check_password(OLD)


def test_changing_the_password_needs_the_current_one(operator_client, verified_operator):
    wrong = operator_client.post(
        "/accounts/password/change/", {"oldpassword": "nope", "password1": NEW, "password2": NEW}
    )
    assert wrong.status_code == 200
    verified_operator.refresh_from_db()
    assert verified_operator.check_password(OLD)

    right = operator_client.post(
        "/accounts/password/change/", {"oldpassword": OLD, "password1": NEW, "password2": NEW}
    )
    assert right.status_code == 302
    verified_operator.refresh_from_db()
    assert verified_operator.check_password(NEW)


def test_the_verification_email_comes_from_the_webmaster_who_is_cc_d(client, mailoutbox):
    sign_up(client)
    (message,) = mailoutbox
    assert message.from_email == f"{WEBMASTER['name']} <{WEBMASTER['email']}>"
    assert message.to == ["dana@cern.ch"]
    assert message.cc == [WEBMASTER["email"]]
    assert WEBMASTER["email"] in message.message()["Cc"]
    assert message.subject.startswith("[WWT] ")
    assert "Workflow Team Web Tools" in message.body
    assert WEBMASTER["name"] in message.body


def test_the_webmaster_comes_from_config_yml(client, mailoutbox, settings):
    settings.WWT = {**settings.WWT, "webmaster": {"name": "Someone Else", "email": "else@cern.ch"}}
    sign_up(client)
    assert mailoutbox[0].from_email == "Someone Else <else@cern.ch>"
    assert mailoutbox[0].cc == ["else@cern.ch"]


def test_a_password_reset_email_is_from_the_webmaster_but_not_cc_d(verified_operator, mailoutbox):
    # The reset link is as good as the password: it goes to the account's owner only.
    Client().post("/accounts/password/reset/", {"email": "alice@cern.ch"})
    (message,) = mailoutbox
    assert message.from_email == f"{WEBMASTER['name']} <{WEBMASTER['email']}>"
    assert message.to == ["alice@cern.ch"]
    assert message.cc == []


def test_a_mail_to_an_unknown_address_is_not_cc_d(mailoutbox, db):
    # Someone asked a reset for an address with no account: only the owner of that address is told.
    Client().post("/accounts/password/reset/", {"email": "nobody@cern.ch"})
    (message,) = mailoutbox
    assert message.to == ["nobody@cern.ch"]
    assert message.cc == []


def test_a_re_sent_verification_email_is_cc_d_too(unverified_client, mailoutbox):
    unverified_client.post("/accounts/email/", {"action_send": "", "email": "charlie@cern.ch"})
    (message,) = mailoutbox
    assert "/accounts/confirm-email/" in message.body
    assert message.cc == [WEBMASTER["email"]]


def test_the_demo_page_says_which_folder_holds_the_link(client, settings, tmp_path):
    settings.DEBUG = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    response = sign_up(client)
    page = client.get(response["Location"])
    assert str(tmp_path / "mail") in page.content.decode()
    (mail_file,) = (tmp_path / "mail").iterdir()
    assert "http://testserver/accounts/confirm-email/" in mail_file.read_text()


def test_a_production_server_keeps_its_mail_folder_to_itself(client, settings, tmp_path):
    settings.DEBUG = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    page = client.get(sign_up(client)["Location"])
    assert page.status_code == 200
    assert "writes e-mails to files" not in page.content.decode()
    assert str(tmp_path) not in page.content.decode()


def test_the_verification_page_gives_no_folder_when_mail_is_really_sent(client, mailoutbox, settings):
    response = sign_up(client)
    page = client.get(response["Location"])
    assert "writes e-mails to files" not in page.content.decode()
    assert PASSWORD not in mailoutbox[0].body

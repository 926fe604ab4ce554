"""Admins see who is verified, verify by hand and deactivate."""

import pytest
from allauth.account.models import EmailAddress

from accounts.models import User
from accounts.permissions import is_verified_operator
from tests.factories import UserFactory

# Case-insensitive lookups and partial unique constraints differ between SQLite and PostgreSQL.
pytestmark = [pytest.mark.django_db, pytest.mark.pg_too]

CHANGELIST = "/admin/accounts/user/"


def _make_users(n, *, verified, prefix=None):
    prefix = prefix or ("v" if verified else "u")
    users = [UserFactory(username=f"{prefix}{i}") for i in range(n)]
    EmailAddress.objects.bulk_create(
        EmailAddress(user=u, email=u.email, primary=True, verified=verified) for u in users
    )
    return users


def _rows(response) -> list[str]:
    return [user.username for user in response.context["cl"].result_list]


def test_the_changelist_shows_verification_without_a_query_per_user(
    admin_client, django_assert_max_num_queries
):
    _make_users(3, verified=True)
    _make_users(3, verified=False)
    admin_client.get(CHANGELIST)  # warm-up: session, content types
    with django_assert_max_num_queries(12):
        small = admin_client.get(CHANGELIST)
    _make_users(20, verified=False, prefix="w")
    with django_assert_max_num_queries(12):
        big = admin_client.get(CHANGELIST)
    assert small.status_code == big.status_code == 200
    html = big.content.decode()
    assert "E-mail verified" in html
    assert 'alt="True"' in html and 'alt="False"' in html


def test_the_changelist_filters_by_verification(admin_client):
    _make_users(2, verified=True)
    _make_users(1, verified=False)
    # The admin itself is verified: the admin is for staff with a verified address only.
    assert sorted(_rows(admin_client.get(CHANGELIST, {"verified": "yes"}))) == ["admin", "v0", "v1"]
    assert sorted(_rows(admin_client.get(CHANGELIST, {"verified": "no"}))) == ["u0"]


def test_the_user_page_shows_the_email_addresses(admin_client, unverified_user):
    response = admin_client.get(f"/admin/accounts/user/{unverified_user.pk}/change/")
    assert response.status_code == 200
    assert "charlie@cern.ch" in response.content.decode()


def _act(admin_client, action, users):
    return admin_client.post(
        CHANGELIST, {"action": action, "_selected_action": [u.pk for u in users]}, follow=True
    )


def test_mark_verified_verifies_the_primary_address(admin_client, unverified_user):
    response = _act(admin_client, "mark_verified", [unverified_user])
    assert response.status_code == 200
    assert "Verified: charlie." in response.content.decode()
    assert is_verified_operator(unverified_user)


def test_mark_verified_gives_a_createsuperuser_account_its_address(admin_client, django_user_model):
    new_admin = django_user_model.objects.create_superuser("root", "root@cern.ch", "pw")
    assert not EmailAddress.objects.filter(user=new_admin).exists()
    _act(admin_client, "mark_verified", [new_admin])
    address = EmailAddress.objects.get(user=new_admin)
    assert (address.email, address.primary, address.verified) == (new_admin.email, True, True)
    assert is_verified_operator(new_admin)


def test_mark_verified_reports_what_it_cannot_do_and_leaves_it(admin_client, verified_operator):
    no_address = UserFactory(username="ghost", email="")
    # Another account already verified alice's address: it cannot be verified twice.
    squatter = UserFactory(username="squatter", email="alice@cern.ch")
    response = _act(admin_client, "mark_verified", [no_address, squatter, verified_operator])
    html = response.content.decode()
    assert "Could not verify ghost: has no e-mail address." in html
    assert "Could not verify squatter: alice@cern.ch is already verified for alice." in html
    assert "Already verified: alice." in html
    assert not EmailAddress.objects.filter(user__in=[no_address, squatter]).exists()


def test_mark_verified_handles_many_users_in_few_queries(admin_user, django_assert_max_num_queries):
    from accounts import services

    users = [UserFactory(username=f"n{i}") for i in range(30)]
    EmailAddress.objects.bulk_create(
        EmailAddress(user=u, email=u.email, primary=True, verified=False) for u in users[:15]
    )
    # read users, their addresses, taken addresses; one bulk update, one bulk insert; savepoints
    with django_assert_max_num_queries(7):
        outcome = services.mark_verified(User.objects.filter(username__startswith="n"))
    assert len(outcome.verified) == 30
    assert EmailAddress.objects.filter(user__in=users, primary=True, verified=True).count() == 30


def test_deactivate_stops_a_user_from_acting_and_logging_in(admin_client, verified_operator, client):
    response = _act(admin_client, "deactivate", [verified_operator])
    assert "Deactivated 1 user(s)." in response.content.decode()
    verified_operator.refresh_from_db()
    assert not verified_operator.is_active
    assert not is_verified_operator(verified_operator)
    client.post("/accounts/login/", {"login": "alice", "password": "correct horse battery staple"})
    assert "_auth_user_id" not in client.session


def test_an_admin_cannot_deactivate_themselves(admin_client, admin_user, verified_operator):
    response = _act(admin_client, "deactivate", [admin_user, verified_operator])
    assert "You cannot deactivate your own account." in response.content.decode()
    admin_user.refresh_from_db()
    verified_operator.refresh_from_db()
    assert admin_user.is_active
    assert not verified_operator.is_active


# -- usernames made or renamed in the admin follow the sign-up rule ----------------------------

ADD_PAGE = "/admin/accounts/user/add/"
USERNAME_RULE = "may contain only letters (A-Z, a-z) and digits (0-9)"


NO_ADDRESSES = {  # the e-mail addresses inline, left empty
    "emailaddress_set-TOTAL_FORMS": "0",
    "emailaddress_set-INITIAL_FORMS": "0",
    "emailaddress_set-MIN_NUM_FORMS": "0",
    "emailaddress_set-MAX_NUM_FORMS": "1000",
}


def _add(admin_client, username):
    password = "a-long-enough-passphrase"
    return admin_client.post(
        ADD_PAGE,
        {"username": username, "usable_password": "true", "password1": password, "password2": password}
        | NO_ADDRESSES,
    )


def _rename(admin_client, user, username):
    """The user's change page, posted back as shown with only the username changed."""
    return admin_client.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {
            "username": username,
            "email": user.email,
            "is_active": "on",
            "date_joined_0": "2024-01-15",
            "date_joined_1": "12:00:00",
        }
        | NO_ADDRESSES,
    )


def _username_errors(response) -> str:
    """The errors shown about the username (the case-insensitive constraint is a form-wide one)."""
    form = response.context["adminform"].form
    return " ".join([*form.errors.get("username", []), *form.non_field_errors()])


def test_the_admin_adds_a_user_with_a_letters_and_digits_name(admin_client):
    response = _add(admin_client, "Dana2")
    assert response.status_code == 302
    assert User.objects.filter(username="Dana2").exists()


@pytest.mark.parametrize("username", ["dana.s", "dana_s", "dana s", "d@na", "dana-s", "dané"])
def test_the_admin_refuses_to_add_a_username_breaking_the_rule(admin_client, username):
    response = _add(admin_client, username)
    assert response.status_code == 200
    assert USERNAME_RULE in _username_errors(response)
    assert not User.objects.exclude(username="admin").exists()


def test_the_admin_refuses_a_username_taken_in_another_case(admin_client, verified_operator):
    response = _add(admin_client, "ALICE")
    assert response.status_code == 200
    assert "already exists" in _username_errors(response)
    assert not User.objects.filter(username="ALICE").exists()


def test_the_admin_refuses_a_rename_breaking_the_rule(admin_client):
    bob = UserFactory(username="bob")
    response = _rename(admin_client, bob, "bob.smith")
    assert response.status_code == 200
    assert USERNAME_RULE in _username_errors(response)
    bob.refresh_from_db()
    assert bob.username == "bob"


def test_the_admin_refuses_a_rename_onto_another_case_of_a_taken_name(admin_client, verified_operator):
    bob = UserFactory(username="bob")
    response = _rename(admin_client, bob, "Alice")
    assert response.status_code == 200
    assert "already exists" in _username_errors(response)
    bob.refresh_from_db()
    assert bob.username == "bob"


def test_the_admin_renames_within_the_rule(admin_client):
    bob = UserFactory(username="bob")
    assert _rename(admin_client, bob, "Bob2").status_code == 302
    bob.refresh_from_db()
    assert bob.username == "Bob2"


def test_an_older_name_outside_the_rule_does_not_block_editing_the_rest(admin_client):
    # e.g. made by createsuperuser before the rule: the admin can still deactivate or fix it.
    legacy = UserFactory(username="web.master")
    assert _rename(admin_client, legacy, "web.master").status_code == 302

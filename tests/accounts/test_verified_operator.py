"""The one rule for who may act, as a view decorator and as a DRF permission."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory
from rest_framework.test import APIRequestFactory

from accounts.decorators import verified_required
from accounts.permissions import IsVerifiedOperator, is_verified_operator
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@verified_required
def _acting_view(request):
    """A stand-in for an acting view (submit action, /resetcache, /cluster)."""
    return HttpResponse("acted")


def _get(user):
    request = RequestFactory().get("/resetcache?x=1")
    request.user = user
    return _acting_view(request)


def test_an_anonymous_visitor_is_sent_to_log_in_and_back():
    response = _get(AnonymousUser())
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/resetcache%3Fx%3D1"


def test_an_unverified_user_gets_a_403_page_with_a_one_click_resend(unverified_user):
    response = _get(unverified_user)
    html = response.content.decode()
    assert response.status_code == 403
    assert "acted" not in html
    assert "Verify your e-mail address first" in html
    assert 'action="/accounts/email/"' in html
    assert 'name="action_send"' in html
    assert 'value="charlie@cern.ch"' in html
    assert "csrfmiddlewaretoken" in html


def test_the_resend_button_sends_a_new_verification_email(unverified_client, unverified_user, mailoutbox):
    response = unverified_client.post("/accounts/email/", {"action_send": "", "email": "charlie@cern.ch"})
    assert response.status_code == 302
    assert [m.to for m in mailoutbox] == [["charlie@cern.ch"]]
    assert "/accounts/confirm-email/" in mailoutbox[0].body


def test_a_user_with_no_address_is_told_to_add_one(db):
    user = UserFactory(username="noemail", email="")
    response = _get(user)
    assert response.status_code == 403
    assert "Add an e-mail address" in response.content.decode()


def test_a_verified_operator_acts(verified_operator):
    response = _get(verified_operator)
    assert response.status_code == 200
    assert response.content == b"acted"


def test_a_deactivated_operator_may_not_act(verified_operator):
    verified_operator.is_active = False
    verified_operator.save()
    assert not is_verified_operator(verified_operator)
    assert _get(verified_operator).status_code == 403


def test_only_the_primary_address_counts(unverified_user):
    EmailAddress.objects.create(
        user=unverified_user, email="charlie@example.org", primary=False, verified=True
    )
    assert not is_verified_operator(unverified_user)


@pytest.mark.parametrize(
    ("who", "allowed"),
    [("anonymous", False), ("unverified_user", False), ("verified_operator", True)],
)
def test_the_drf_permission_follows_the_same_rule(request, who, allowed):
    user = AnonymousUser() if who == "anonymous" else request.getfixturevalue(who)
    api_request = APIRequestFactory().post("/api/actions/", {}, format="json")
    api_request.user = user
    assert IsVerifiedOperator().has_permission(api_request, view=None) is allowed


def test_is_verified_operator_costs_one_query(verified_operator, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert is_verified_operator(verified_operator)

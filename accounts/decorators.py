from functools import wraps

from allauth.account.models import EmailAddress
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render

from wwt_project.page_data import json_problem, wants_json

from .permissions import is_verified_operator


def verified_required(view):
    """Anonymous users go to login; signed-in but unverified users see how to verify (403).
    A client asking for JSON gets a JSON 401 / 403 instead of a page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if wants_json(request) and not is_verified_operator(request.user):
            if not request.user.is_authenticated:
                return json_problem("log in first, as a verified operator", 401)
            return json_problem("only verified operators may see this; verify your e-mail address first", 403)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_verified_operator(request.user):
            return render(
                request,
                "accounts/verify_first.html",
                {"email_address": _address_to_verify(request.user)},
                status=403,
            )
        return view(request, *args, **kwargs)

    return wrapper


def _address_to_verify(user) -> EmailAddress | None:
    """The user's primary address (or any), for the one-click re-send; None if they have none."""
    return EmailAddress.objects.filter(user=user).order_by("-primary", "pk").first()

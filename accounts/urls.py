"""The original tool's account paths, kept so bookmarks and old e-mails still land somewhere useful."""

from django.urls import re_path
from django.views.generic import RedirectView


def _moved_to(pattern_name):
    return RedirectView.as_view(pattern_name=pattern_name, permanent=False, query_string=False)


app_name = "accounts"
urlpatterns = [
    re_path(r"^newuser/?$", _moved_to("account_signup"), name="old_newuser"),
    re_path(r"^resetpassword/?$", _moved_to("account_reset_password"), name="old_resetpassword"),
    # The original's confirmation codes mean nothing to allauth: send the operator to
    # the page that shows their addresses and re-sends the verification e-mail.
    re_path(r"^confirmuser/?$", _moved_to("account_email"), name="old_confirmuser"),
]

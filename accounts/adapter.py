"""Sign-up rules and account e-mails, plugged into django-allauth.

Rules (config.yml `accounts`): a username is letters and digits only and unique
regardless of case; an e-mail address must be at an allowed domain or be
whitelisted. Account e-mails come from the webmaster, who is cc'd on the
verification e-mail only, as in the original tool.
"""

import ipaddress
import re

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

_USERNAME = re.compile(r"[A-Za-z0-9]+")

# The original tool cc'd the webmaster on the account-verification e-mail only, so they see
# who signs up. An allow-list: e-mails allauth adds later (reset links, login codes, notices
# to unknown addresses) are not copied to what is often a shared list.
_WEBMASTER_CC_MAILS = {
    "account/email/email_confirmation_signup",  # the link sent at sign-up
    "account/email/email_confirmation",  # the same link, re-sent or for an added address
}


def validate_username(username: str) -> None:
    """The username rule shared by sign-up and the admin: not empty, letters and digits only.

    Raises ValidationError naming the rule. Uniqueness is checked by the callers (and the database).
    """
    if not username or not username.strip():
        raise ValidationError("Choose a username: it may not be empty.")
    if not _USERNAME.fullmatch(username):
        raise ValidationError(
            "A username may contain only letters (A-Z, a-z) and digits (0-9): "
            "no spaces, dots, dashes or other symbols."
        )


def allowed_domains() -> list[str]:
    return [domain.strip().lower().lstrip("@") for domain in settings.WWT["accounts"]["allowed_domains"]]


def is_allowed_email(email: str) -> bool:
    """True when `email` is at an allowed domain (exactly, not a subdomain) or whitelisted."""
    email = email.strip().lower()
    whitelisted = {address.strip().lower() for address in settings.WWT["accounts"]["whitelisted_emails"]}
    if email in whitelisted:
        return True
    _, _, domain = email.rpartition("@")
    return bool(domain) and domain in allowed_domains()


def client_address(request) -> str:
    """The client's IP address: REMOTE_ADDR, or behind WWT_TRUSTED_PROXY_COUNT proxies the
    address the outermost trusted proxy saw (X-Forwarded-For's entry that many from the right;
    entries further left are the client's to forge). Behind a TLS proxy REMOTE_ADDR is the
    proxy's, so counting by it would lock everyone out together."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.WWT_TRUSTED_PROXY_COUNT
    forwarded = [
        part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()
    ]
    if proxies <= 0 or len(forwarded) < proxies:
        return remote  # not through the proxies (or misconfigured): the connection's own address
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def account_key(login: str) -> str:
    """One rate-limit key per account, whether `login` is its username or an address of its,
    so username and e-mail share one failure budget; an unknown login keys on itself."""
    login = (login or "").strip().lower()
    users = get_user_model().objects
    if "@" in login:
        user_id = (
            EmailAddress.objects.filter(email__iexact=login).values_list("user_id", flat=True).first()
            or users.filter(email__iexact=login).values_list("pk", flat=True).first()
        )
    else:
        user_id = users.filter(username__iexact=login).values_list("pk", flat=True).first()
    return f"account:{user_id}" if user_id else f"login:{login}"


def webmaster_address() -> str:
    webmaster = settings.WWT["webmaster"]
    return f"{webmaster['name']} <{webmaster['email']}>"


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up rules from config.yml (allowed e-mail domains, whitelisted addresses)."""

    def clean_username(self, username, shallow=False):
        validate_username(username)
        if not shallow and get_user_model().objects.filter(username__iexact=username).exists():
            raise ValidationError(
                f"The username \u201c{username}\u201d is already taken "
                "(usernames are compared without regard to upper and lower case)."
            )
        return super().clean_username(username, shallow=shallow)

    def clean_email(self, email):
        email = super().clean_email(email)
        if not is_allowed_email(email):
            domains = " or ".join(allowed_domains()) or "no domain"
            raise ValidationError(
                f"Accounts are only open to e-mail addresses at {domains}. "
                f"If you need another address, ask the webmaster ({settings.WWT['webmaster']['email']}) "
                "to whitelist it."
            )
        return email

    def get_client_ip(self, request):
        return client_address(request)

    def _get_login_attempts_cache_key(self, request, **credentials):
        # allauth keys failed logins by the text typed; we key them by the account.
        return account_key(credentials.get("email") or credentials.get("username") or "")

    def get_from_email(self):
        return webmaster_address()

    def send_mail(self, template_prefix, email, context):
        context = {**context, "webmaster": settings.WWT["webmaster"]}
        super().send_mail(template_prefix, email, context)

    def render_mail(self, template_prefix, email, context, headers=None):
        message = super().render_mail(template_prefix, email, context, headers=headers)
        webmaster = settings.WWT["webmaster"]["email"]
        recipients = {r.lower() for r in ([email] if isinstance(email, str) else email)}
        if template_prefix in _WEBMASTER_CC_MAILS and webmaster.lower() not in recipients:
            message.cc = [*message.cc, webmaster]
        return message

"""The one rule for who may act: an active user with a verified primary e-mail."""

from allauth.account.models import EmailAddress
from rest_framework.permissions import BasePermission


def is_verified_operator(user) -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    return EmailAddress.objects.filter(user=user, primary=True, verified=True).exists()


class IsVerifiedOperator(BasePermission):
    """DRF permission: only verified operators may call the endpoint."""

    message = "Only signed-in operators with a verified e-mail address may do this."

    def has_permission(self, request, view):
        return is_verified_operator(request.user)

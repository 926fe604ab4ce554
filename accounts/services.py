"""What admins do to accounts: verify them by hand, deactivate them."""

from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from django.db import transaction


@dataclass
class VerifyOutcome:
    verified: list[str] = field(default_factory=list)  # usernames now verified
    already_verified: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # username -> why


@transaction.atomic
def mark_verified(users) -> VerifyOutcome:
    """Mark each user's primary e-mail address verified.

    A user without an EmailAddress row (e.g. made by `createsuperuser`) gets one from
    `user.email`. Refused, with the reason: no address at all, or an address another
    account has already verified.
    """
    users = list(users)
    outcome = VerifyOutcome()
    addresses = EmailAddress.objects.filter(user__in=users).order_by("-primary", "pk")
    by_user: dict[int, list[EmailAddress]] = {}
    for address in addresses:
        by_user.setdefault(address.user_id, []).append(address)

    wanted: dict[int, str] = {}  # user id -> address to verify (lower case, as allauth stores it)
    for user in users:
        own = by_user.get(user.pk, [])
        primary = next((a for a in own if a.primary), None)
        if primary is None and user.email:
            primary = next((a for a in own if a.email.lower() == user.email.lower()), None)
        if primary is None and own:
            primary = own[0]
        if primary is not None and primary.primary and primary.verified:
            outcome.already_verified.append(user.username)
            continue
        email = primary.email if primary is not None else user.email
        if not email:
            outcome.refused[user.username] = "has no e-mail address"
            continue
        wanted[user.pk] = email.lower()

    taken = dict(
        EmailAddress.objects.filter(email__in=wanted.values(), verified=True)
        .exclude(user_id__in=wanted.keys())
        .values_list("email", "user__username")
    )
    to_update, to_create = [], []
    for user in users:
        email = wanted.get(user.pk)
        if email is None:
            continue
        if email in taken:
            outcome.refused[user.username] = f"{email} is already verified for {taken[email]}"
            continue
        existing = next((a for a in by_user.get(user.pk, []) if a.email.lower() == email), None)
        if existing is None:
            to_create.append(EmailAddress(user=user, email=email, primary=True, verified=True))
        else:
            existing.primary = existing.verified = True
            to_update.append(existing)
        outcome.verified.append(user.username)

    if to_update:
        EmailAddress.objects.bulk_update(to_update, ["primary", "verified"])
    if to_create:
        EmailAddress.objects.bulk_create(to_create)
    return outcome


def deactivate(users, *, acting_admin) -> tuple[int, bool]:
    """Deactivate `users` (a queryset) except the admin doing it, who would lock themselves out.

    Returns (number deactivated, whether the acting admin was skipped).
    """
    skipped_self = users.filter(pk=acting_admin.pk).exists()
    count = users.exclude(pk=acting_admin.pk).filter(is_active=True).update(is_active=False)
    return count, skipped_self

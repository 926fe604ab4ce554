"""A named job lock in the database, shared by every process (web, worker, commands)."""

import uuid
from contextlib import contextmanager
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .models import JobLock


def acquire_lock(name: str, *, ttl: timedelta) -> str | None:
    """Take lock `name` for `ttl`; returns a token, or None when someone else holds it.

    The take is one conditional UPDATE (free or expired → ours), which the database
    runs atomically, so two processes can never both succeed."""
    try:
        with transaction.atomic():
            JobLock.objects.get_or_create(name=name)
    except IntegrityError:
        pass  # created by a concurrent caller: the row is there, which is all we need
    token = uuid.uuid4().hex
    now = timezone.now()
    taken = JobLock.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__lte=now), name=name).update(
        holder=token, acquired_at=now, expires_at=now + ttl
    )
    return token if taken else None


def release_lock(name: str, token: str) -> None:
    """Free lock `name` if `token` still holds it (an expired, re-taken lock is left alone)."""
    JobLock.objects.filter(name=name, holder=token).update(holder="", expires_at=None)


def lock_holder(name: str) -> JobLock | None:
    """The lock row while it is held and unexpired, else None."""
    return JobLock.objects.filter(name=name, expires_at__gt=timezone.now()).first()


@contextmanager
def held_lock(name: str, *, ttl: timedelta):
    """Hold lock `name` for the block; yields the token or None when it was not free."""
    token = acquire_lock(name, ttl=ttl)
    try:
        yield token
    finally:
        if token:
            release_lock(name, token)

"""Default beat entries of every app (settings.WWT_PERIODIC_TASKS) installed into django-celery-beat."""

from django.conf import settings
from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask


@transaction.atomic
def install_default_schedules() -> list[str]:
    """Create the default periodic tasks that are missing; never touch existing ones,
    so what an admin changed in Django admin survives every deploy. Returns the names created."""
    created = []
    for name, entry in settings.WWT_PERIODIC_TASKS.items():
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=entry["every_minutes"], period=IntervalSchedule.MINUTES
        )
        PeriodicTask.objects.create(name=name, task=entry["task"], interval=interval)
        created.append(name)
    return created

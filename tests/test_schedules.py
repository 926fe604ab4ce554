"""The beat schedule: every entry names a real task; installing keeps admin edits."""

import pytest
from django.conf import settings
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from wwt_project.celery import app
from wwt_project.schedules import install_default_schedules

pytestmark = pytest.mark.django_db


def test_every_default_entry_names_a_registered_task():
    app.loader.import_default_modules()
    for name, entry in settings.WWT_PERIODIC_TASKS.items():
        assert entry["task"] in app.tasks, f"beat entry {name!r} names unknown task {entry['task']!r}"


def test_errors_refresh_every_half_hour_and_history_hourly():
    install_default_schedules()
    refresh = PeriodicTask.objects.get(task="errors.tasks.refresh_errors")
    history = PeriodicTask.objects.get(task="errors.tasks.update_history")
    assert (refresh.interval.every, refresh.interval.period) == (30, IntervalSchedule.MINUTES)
    assert (history.interval.every, history.interval.period) == (60, IntervalSchedule.MINUTES)


def test_installing_twice_creates_nothing_new_and_keeps_admin_edits():
    install_default_schedules()
    edited = PeriodicTask.objects.get(task="errors.tasks.refresh_errors")
    edited.interval = IntervalSchedule.objects.create(every=10, period=IntervalSchedule.MINUTES)
    edited.enabled = False
    edited.save()
    count = PeriodicTask.objects.count()

    assert install_default_schedules() == []

    edited.refresh_from_db()
    assert PeriodicTask.objects.count() == count
    assert edited.interval.every == 10 and not edited.enabled

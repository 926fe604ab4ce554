"""The Celery app. Tasks live in each app's tasks.py and wrap plain functions."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wwt_project.settings")

app = Celery("wwt")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

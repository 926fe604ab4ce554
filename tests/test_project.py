"""Project-wide guards: migrations match the models, every admin page opens."""

from io import StringIO

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from tests.factories import ErrorCountFactory


@pytest.mark.django_db
def test_models_and_migrations_agree():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=StringIO())
    except SystemExit as exc:  # --check exits non-zero when a migration is missing
        pytest.fail(f"a model change has no migration:\n{out.getvalue()}\n(exit {exc.code})")


@pytest.mark.django_db
def test_every_admin_changelist_opens(admin_client):
    ErrorCountFactory()
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        response = admin_client.get(url)
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        if model_admin.search_fields:
            assert admin_client.get(url, {"q": "T2_CH_CERN"}).status_code == 200, f"search on {url} failed"
        if model_admin.has_add_permission(response.wsgi_request):
            add = reverse(f"admin:{meta.app_label}_{meta.model_name}_add")
            assert admin_client.get(add).status_code == 200, f"{add} failed"

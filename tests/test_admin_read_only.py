"""Workflows, steps and their errors come from ingestion: admin shows them, never edits them."""

import re

import pytest
from django.urls import reverse

from errors.models import ErrorCount
from tests.factories import ErrorCountFactory
from workflows.models import Step, Workflow

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [Workflow, Step, ErrorCount])
def test_ingested_data_opens_read_only_in_admin(admin_client, model):
    cell = ErrorCountFactory()
    obj = {Workflow: cell.step.workflow, Step: cell.step, ErrorCount: cell}[model]
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    before = list(model.objects.values())

    page = admin_client.get(reverse(f"{name}_change", args=[obj.pk]))
    assert page.status_code == 200
    form = page.content.decode().split('id="content-main"')[1].split("</form>")[0]
    assert 'class="readonly"' in form and 'name="_save"' not in form
    assert not re.search(r'<(textarea|select)|<input(?![^>]*type="hidden")', form)  # nothing to fill in

    edit = {field: "edited" for field in ("name", "site") if hasattr(obj, field)}
    assert admin_client.post(reverse(f"{name}_change", args=[obj.pk]), edit).status_code == 403
    assert admin_client.get(reverse(f"{name}_add")).status_code == 403
    assert list(model.objects.values()) == before


@pytest.mark.parametrize("model", [Workflow, Step, ErrorCount])
def test_workflows_and_steps_cannot_be_deleted_in_admin(admin_client, model):
    cell = ErrorCountFactory()
    obj = {Workflow: cell.step.workflow, Step: cell.step, ErrorCount: cell}[model]
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_delete", args=[obj.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert ErrorCount.objects.filter(pk=cell.pk).exists()  # a delete would cascade to the errors


def test_workflows_are_still_listed_searched_and_filtered(admin_client):
    cell = ErrorCountFactory()
    workflow = cell.step.workflow
    url = reverse("admin:workflows_workflow_changelist")
    assert workflow.name in admin_client.get(url, {"q": workflow.name[:20]}).content.decode()
    assert workflow.name in admin_client.get(url, {"is_acdc__exact": "0"}).content.decode()
    page = admin_client.get(reverse("admin:workflows_workflow_change", args=[workflow.pk])).content.decode()
    assert cell.step.name in page  # its steps, listed read-only


def test_sites_open_read_only_in_admin(admin_client):
    from workflows.models import Site

    site = Site.objects.create(name="T2_CH_CERN", status="drain")
    assert admin_client.get(reverse("admin:workflows_site_changelist")).status_code == 200
    page = admin_client.get(reverse("admin:workflows_site_change", args=[site.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert (
        admin_client.post(
            reverse("admin:workflows_site_change", args=[site.pk]), {"status": "enabled"}
        ).status_code
        == 403
    )
    assert Site.objects.get().status == "drain"

"""Beat entries name registered tasks; the admin pages open."""

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings

from clustering.models import ClusterMembership, Predictor, ReclusteringJob
from tests.clustering.conftest import add_errors
from wwt_project.celery import app


def test_the_clustering_beat_entries_name_registered_tasks():
    app.loader.import_default_modules()
    entries = {
        name: e for name, e in settings.WWT_PERIODIC_TASKS.items() if e["task"].startswith("clustering.")
    }
    assert {e["task"] for e in entries.values()} == {
        "clustering.tasks.recluster",
        "clustering.tasks.train_predictor",
    }
    for entry in entries.values():
        assert entry["task"] in app.tasks
        assert entry["every_minutes"] == 1440


@pytest.mark.django_db
def test_the_tasks_answer_nothing_to_do_without_failing():
    from clustering import tasks

    assert "no errors to cluster" in tasks.recluster.delay().get()["message"]
    assert tasks.train_predictor.delay().get()["predictor"] is None


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@cern.ch", "pw")
    EmailAddress.objects.create(user=admin, email=admin.email, primary=True, verified=True)
    client.force_login(admin)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("model", [ReclusteringJob, ClusterMembership, Predictor])
def test_admin_changelists_open(admin_client, model):
    workflow = add_errors("wf_admin", [(84, "T2_CH_CERN", 1)])
    job = ReclusteringJob.objects.create(state=ReclusteringJob.State.DONE)
    ClusterMembership.objects.create(workflow=workflow, clustering=job, cluster=0)
    Predictor.objects.create(samples=3)
    url = f"/admin/clustering/{model._meta.model_name}/"
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "wf"}).status_code == 200

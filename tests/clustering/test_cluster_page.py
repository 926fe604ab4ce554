"""The /cluster page, its projection picture and who may use them."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from clustering import jobs
from clustering.models import ClusterMembership, ReclusteringJob
from tests.clustering.conftest import add_errors

pytestmark = [pytest.mark.django_db, pytest.mark.pg_too]

HOSTILE = 'wf_<script>alert("x")</script>&'


def clustered():
    add_errors("wf_alpha", [(50660, "T2_CH_CERN", 10)])
    add_errors("wf_beta", [(50660, "T2_CH_CERN", 12)])
    add_errors(HOSTILE, [(8028, "T1_US_FNAL", 30)])
    add_errors("wf_delta", [(8028, "T1_US_FNAL", 28), (8028, "T2_US_MIT", 1)])
    return jobs.recluster_workflows()


def test_operators_see_the_clusters_of_the_last_fit(operator_client, django_assert_max_num_queries):
    clustered()
    with django_assert_max_num_queries(10):
        response = operator_client.get("/cluster")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Workflow clusters" in page
    assert "50660 (22)" in page and "T2_CH_CERN (22)" in page
    assert "8028 (59)" in page and "T1_US_FNAL (58), T2_US_MIT (1)" in page
    assert 'src="/cluster/projection.svg"' in page
    assert "Recluster now" in page and "csrfmiddlewaretoken" in page


def test_the_page_says_when_nothing_was_clustered_yet(operator_client):
    response = operator_client.get("/cluster")
    assert response.status_code == 200
    assert "No clustering has finished yet" in response.content.decode()


def test_posting_queues_a_reclustering_that_runs_after_commit(
    operator_client, verified_operator, django_capture_on_commit_callbacks
):
    add_errors("wf_alpha", [(50660, "T2_CH_CERN", 10)])
    add_errors("wf_beta", [(8028, "T1_US_FNAL", 12)])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = operator_client.post("/cluster")
    assert response.status_code == 302 and response["Location"] == "/cluster"
    assert len(callbacks) == 1
    job = ReclusteringJob.objects.get()
    assert job.requested_by == verified_operator
    assert job.state == ReclusteringJob.State.DONE  # Celery runs eagerly in tests
    assert ClusterMembership.objects.count() == 2
    page = operator_client.get("/cluster").content.decode()
    assert f"Reclustering {job.pk} is queued" in page


def test_a_second_request_while_one_is_queued_is_refused(operator_client):
    ReclusteringJob.objects.create(state=ReclusteringJob.State.RUNNING, stage="fitting KMeans")
    response = operator_client.post("/cluster")
    assert response.status_code == 409
    page = response.content.decode()
    assert "already running" in page
    assert "fitting KMeans" in page
    assert ReclusteringJob.objects.count() == 1


def queued_minutes_ago(minutes: int) -> ReclusteringJob:
    job = ReclusteringJob.objects.create()
    ReclusteringJob.objects.filter(pk=job.pk).update(requested_at=timezone.now() - timedelta(minutes=minutes))
    return job


def test_a_job_no_worker_started_is_given_up_and_a_new_request_is_accepted(operator_client):
    lost = queued_minutes_ago(11)  # the broker or the worker was down
    page = operator_client.get("/cluster").content.decode()
    assert f"Reclustering {lost.pk} failed: never started: is a worker running?" in page
    assert '<button type="submit">Recluster now</button>' in page
    lost.refresh_from_db()
    assert lost.state == ReclusteringJob.State.FAILED and lost.finished_at is not None
    response = operator_client.post("/cluster")
    assert response.status_code == 302
    assert ReclusteringJob.objects.filter(state=ReclusteringJob.State.QUEUED).count() == 1


def test_a_job_queued_minutes_ago_still_blocks_a_second_request(operator_client):
    waiting = queued_minutes_ago(5)
    page = operator_client.get("/cluster").content.decode()
    assert f"Reclustering {waiting.pk} is <strong>queued</strong>" in page
    assert "given up" in page
    response = operator_client.post("/cluster")
    assert response.status_code == 409
    assert "already queued" in response.content.decode()
    assert ReclusteringJob.objects.get().state == ReclusteringJob.State.QUEUED


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_users_are_sent_to_login(method):
    response = getattr(Client(), method)("/cluster")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert not ReclusteringJob.objects.exists()


def test_unverified_users_cannot_queue_a_reclustering(unverified_client):
    response = unverified_client.post("/cluster")
    assert response.status_code == 403
    assert not ReclusteringJob.objects.exists()


def test_posting_without_csrf_token_is_refused(verified_operator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(verified_operator)
    assert client.post("/cluster").status_code == 403
    assert not ReclusteringJob.objects.exists()


def test_the_projection_is_an_svg_with_escaped_names(operator_client, django_assert_max_num_queries):
    clustered()
    with django_assert_max_num_queries(6):
        response = operator_client.get("/cluster/projection.svg")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    svg = response.content.decode()
    assert svg.count("<circle") == 4
    assert "<script>" not in svg
    assert "wf_&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in svg
    assert "cluster 0" in svg and "cluster 1" in svg


def test_the_projection_needs_a_verified_operator(unverified_client):
    assert unverified_client.get("/cluster/projection.svg").status_code == 403

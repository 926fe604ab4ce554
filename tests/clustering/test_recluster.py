"""Reclustering through the service, the command and the (eager) task."""

import threading
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from clustering import jobs, model_files, placement, tasks
from clustering.models import ClusterMembership, ReclusteringJob
from errors.models import ErrorHistory
from tests.clustering.conftest import add_errors
from wwt_project.locks import Busy, job_lock

pytestmark = [pytest.mark.django_db, pytest.mark.pg_too]


def toy_set():
    """Two memory-failing workflows at CERN, one file-open failure at FNAL."""
    alpha = add_errors("wf_alpha", [(50660, "T2_CH_CERN", 10), (50660, "T2_US_MIT", 1)])
    beta = add_errors("wf_beta", [(50660, "T2_CH_CERN", 12)])
    gamma = add_errors("wf_gamma", [(8028, "T1_US_FNAL", 30)])
    return alpha, beta, gamma


def test_near_identical_workflows_share_a_cluster_and_a_different_one_is_apart():
    alpha, beta, gamma = toy_set()
    job = jobs.recluster_workflows()
    assert job.state == ReclusteringJob.State.DONE
    assert [entry.name for entry in placement.similar_panel(alpha).similar] == ["wf_beta"]
    assert [entry.name for entry in placement.similar_panel(beta).similar] == ["wf_alpha"]
    assert [entry.name for entry in placement.similar_panel(gamma).similar] == []
    clusters = dict(ClusterMembership.objects.values_list("workflow__name", "cluster"))
    assert clusters["wf_alpha"] == clusters["wf_beta"] != clusters["wf_gamma"]


def test_the_fit_records_its_time_parameters_summary_and_model_file(clustering_config):
    toy_set()
    job = jobs.recluster_workflows()
    job.refresh_from_db()
    assert job.finished_at is not None and job.started_at <= job.finished_at
    assert job.parameters["n_clusters"] == 2
    assert job.parameters["errorcode"] == {"distance": 1.0, "width": 0.0, "midpoint": 10.0}
    assert job.current_samples == 3
    assert Path(job.model_file).parent == Path(clustering_config["model_dir"])
    assert Path(job.model_file).exists()
    sizes = sorted(entry["size"] for entry in job.summary)
    assert sizes == [1, 2]
    memory_cluster = next(entry for entry in job.summary if entry["size"] == 2)
    assert memory_cluster["codes"] == [[50660, 23]]
    assert memory_cluster["sites"][0] == ["T2_CH_CERN", 22]


def test_history_snapshots_are_extra_samples():
    alpha, _, _ = toy_set()
    step = alpha.steps.get()
    now = timezone.now()
    ErrorHistory.objects.bulk_create(
        [
            ErrorHistory(
                step=step, exit_code=50660, site="T2_CH_CERN", count=3, bucket=now - timedelta(hours=2)
            ),
            ErrorHistory(
                step=step, exit_code=84, site="T2_CH_CERN", count=3, bucket=now - timedelta(hours=2)
            ),
            ErrorHistory(
                step=step, exit_code=50660, site="T2_CH_CERN", count=5, bucket=now - timedelta(hours=1)
            ),
        ]
    )
    job = jobs.recluster_workflows()
    assert (job.current_samples, job.history_samples) == (3, 2)
    assert job.parameters["exit_codes"] == 3  # 84 only appears in the history


def test_a_workflow_added_after_the_fit_is_placed_with_the_stored_model():
    toy_set()
    jobs.recluster_workflows()
    newcomer = add_errors("wf_newcomer", [(8028, "T1_US_FNAL", 25)])
    membership = placement.place_workflow(newcomer)
    assert membership.placement == ClusterMembership.Placement.PREDICT
    assert [entry.name for entry in placement.similar_panel(newcomer).similar] == ["wf_gamma"]
    assert membership.pk is None and not ClusterMembership.objects.filter(workflow=newcomer).exists()


def test_a_newcomer_is_placed_with_the_fit_that_finished_last_not_the_one_requested_last():
    toy_set()
    jobs.recluster_workflows()
    jobs.recluster_workflows()
    finished_last, requested_last = ReclusteringJob.objects.order_by("pk")
    # A job queued from /cluster that finished after a later manual run: its memberships are current.
    ReclusteringJob.objects.filter(pk=finished_last.pk).update(
        finished_at=timezone.now() + timedelta(minutes=1)
    )
    ClusterMembership.objects.update(clustering=finished_last)
    newcomer = add_errors("wf_newcomer", [(8028, "T1_US_FNAL", 25)])
    assert placement.place_workflow(newcomer).clustering == finished_last
    assert [entry.name for entry in placement.similar_panel(newcomer).similar] == ["wf_gamma"]


def test_a_workflow_leaving_the_current_errors_loses_its_cluster():
    alpha, _, _ = toy_set()
    jobs.recluster_workflows()
    alpha.steps.get().errors.all().delete()
    jobs.recluster_workflows()
    assert not ClusterMembership.objects.filter(workflow=alpha).exists()
    assert ClusterMembership.objects.count() == 2


def test_a_job_left_running_by_a_crash_is_marked_interrupted_with_its_finish_time():
    toy_set()
    crashed = ReclusteringJob.objects.create(state=ReclusteringJob.State.RUNNING, started_at=timezone.now())
    jobs.recluster_workflows()
    crashed.refresh_from_db()
    assert crashed.state == ReclusteringJob.State.FAILED
    assert crashed.message == "interrupted before it finished"
    assert crashed.finished_at is not None and crashed.seconds is not None


def test_a_job_given_up_as_never_started_stays_failed_when_a_worker_gets_it_late():
    toy_set()
    job = ReclusteringJob.objects.create()
    ReclusteringJob.objects.filter(pk=job.pk).update(requested_at=timezone.now() - timedelta(minutes=30))
    assert jobs.active_job() is None
    assert jobs.recluster_workflows(job.pk).state == ReclusteringJob.State.FAILED
    job.refresh_from_db()
    assert job.message == jobs.NEVER_STARTED and job.started_at is None
    assert not ClusterMembership.objects.exists()


def test_reclustering_is_refused_while_another_holds_the_lock():
    toy_set()
    with (
        job_lock(jobs.LOCK_NAME),
        pytest.raises(jobs.ClusteringError, match="another reclustering is running since .* by process"),
    ):
        jobs.recluster_workflows()
    assert ReclusteringJob.objects.get().state == ReclusteringJob.State.REFUSED
    assert not ClusterMembership.objects.exists()
    assert jobs.recluster_workflows().state == ReclusteringJob.State.DONE


def test_a_redelivered_running_job_is_left_to_the_run_holding_the_lock():
    toy_set()
    job = ReclusteringJob.objects.create(state=ReclusteringJob.State.RUNNING)
    with job_lock(jobs.LOCK_NAME):
        assert jobs.recluster_workflows(job.pk).state == ReclusteringJob.State.RUNNING
    job.refresh_from_db()
    assert job.state == ReclusteringJob.State.RUNNING and not job.message


def test_a_second_taker_is_refused_with_the_holder_named_and_the_lock_is_free_after():
    pattern = r"held since \d{4}-.* by process \d+ on .*kill \d+"
    with job_lock("job"), pytest.raises(Busy, match=pattern), job_lock("job"):
        pass
    with job_lock("job"):
        pass


def test_nothing_to_cluster_fails_the_job_with_a_clear_message():
    with pytest.raises(jobs.ClusteringError, match="no errors to cluster"):
        jobs.recluster_workflows()
    job = ReclusteringJob.objects.get()
    assert job.state == ReclusteringJob.State.FAILED
    assert "no errors to cluster" in job.message
    with job_lock(jobs.LOCK_NAME):
        pass  # freed


def test_running_a_finished_job_again_changes_nothing():
    toy_set()
    job = jobs.recluster_workflows()
    first_model = job.model_file
    again = jobs.recluster_workflows(job.pk)
    assert again.model_file == first_model
    assert ReclusteringJob.objects.count() == 1


def test_old_model_files_are_removed_after_a_few_fits():
    toy_set()
    fits = [jobs.recluster_workflows() for _ in range(model_files.MODEL_FILES_KEPT + 1)]
    assert not Path(fits[0].model_file).exists()
    fits[0].refresh_from_db()
    assert fits[0].model_file == ""
    assert all(Path(fit.model_file).exists() for fit in fits[1:])


def test_recluster_command_prints_a_summary():
    toy_set()
    out = StringIO()
    call_command("recluster", "--no-progress", stdout=out)
    assert "3 current workflows" in out.getvalue()
    assert ReclusteringJob.objects.get().state == ReclusteringJob.State.DONE


def test_recluster_command_draws_its_progress_on_one_line():
    toy_set()
    err = StringIO()
    call_command("recluster", stdout=StringIO(), stderr=err)
    bar = err.getvalue()
    assert "5/5" in bar and "storing clusters" in bar
    assert "\n" not in bar.rstrip("\n")


def test_recluster_command_fails_clearly_without_errors():
    with pytest.raises(CommandError, match="no errors to cluster"):
        call_command("recluster", "--no-progress", stdout=StringIO())


def test_the_task_runs_the_queued_job():
    toy_set()
    job = ReclusteringJob.objects.create()
    result = tasks.recluster.delay(job.pk).get()
    assert result["state"] == "done"
    job.refresh_from_db()
    assert job.state == ReclusteringJob.State.DONE
    assert ClusterMembership.objects.filter(clustering=job).count() == 3


def test_a_second_run_is_refused_while_the_first_is_running():
    toy_set()
    refusals = []

    def start_another(stage):
        if stage == "fitting KMeans":
            with pytest.raises(jobs.ClusteringError) as refused:
                jobs.recluster_workflows()
            refusals.append(str(refused.value))

    first = jobs.recluster_workflows(progress=start_another)
    assert first.state == ReclusteringJob.State.DONE
    assert len(refusals) == 1 and "another reclustering is running since" in refusals[0]
    assert list(ReclusteringJob.objects.order_by("pk").values_list("state", flat=True)) == ["done", "refused"]


@pytest.mark.django_db(transaction=True)
def test_another_connection_is_refused_while_the_first_runs():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the SQLite test database is not shared with another connection")
    toy_set()
    outcome = []

    def in_another_connection():
        try:
            jobs.recluster_workflows()
            outcome.append("ran")
        except jobs.ClusteringError as exc:
            outcome.append(str(exc))
        finally:
            connection.close()

    def start_another(stage):
        if stage == "fitting KMeans":
            other = threading.Thread(target=in_another_connection)
            other.start()
            other.join(timeout=60)

    jobs.recluster_workflows(progress=start_another)
    assert len(outcome) == 1 and outcome[0].startswith("another reclustering is running")

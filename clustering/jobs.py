"""The reclustering job's life: requested from /cluster (queued for the worker), run under
the "recluster" lock, failed when no worker took it in time.

`request_reclustering(user)` queues a job; `recluster_workflows(job_id)` runs one (the task,
the command and the tests all call it); `active_job()` is the one under way, if any. The
fit itself is `clustering.fitting`. All raise `ClusteringError` with a readable message.
"""

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from wwt_project.locks import Busy, job_lock
from wwt_project.queue import QueueDown, send_after_commit

from .exceptions import ClusteringError
from .fitting import STAGES, fit_and_store
from .models import ReclusteringJob

__all__ = [
    "STAGES",
    "ClusteringError",
    "NotQueued",
    "active_job",
    "recluster_workflows",
    "request_reclustering",
]

LOCK_NAME = "recluster"
# A queued job that no worker started within this is taken for lost (broker or worker
# down), so it stops blocking new requests from /cluster.
QUEUED_TIMEOUT = timedelta(minutes=10)
NEVER_STARTED = "never started: is a worker running?"
Progress = Callable[[str], None] | None
State = ReclusteringJob.State


class NotQueued(ClusteringError):
    """The task queue did not take the reclustering; no job row was left behind."""


def lock_ttl() -> timedelta:
    # Longer than Celery's hard time limit, so a live job never loses the lock, yet a
    # crashed one frees it within the hour.
    return timedelta(seconds=getattr(settings, "CELERY_TASK_TIME_LIMIT", 35 * 60) + 300)


def fail_unstarted_jobs() -> int:
    """Mark failed the jobs still queued QUEUED_TIMEOUT after they were requested: no
    worker took them. Returns how many. A worker that picks one up later leaves it alone."""
    now = timezone.now()
    return ReclusteringJob.objects.filter(
        state=State.QUEUED, started_at__isnull=True, requested_at__lt=now - QUEUED_TIMEOUT
    ).update(state=State.FAILED, message=NEVER_STARTED, finished_at=now)


def active_job() -> ReclusteringJob | None:
    """The queued or running reclustering, if one is under way (not older than the lock's
    life). A queued job no worker started in time is marked failed first, so it is not."""
    fail_unstarted_jobs()
    since = timezone.now() - lock_ttl()
    return (
        ReclusteringJob.objects.filter(state__in=[State.QUEUED, State.RUNNING], requested_at__gte=since)
        .order_by("-requested_at")
        .first()
    )


def request_reclustering(user=None) -> ReclusteringJob:
    """Queue a reclustering for the worker (sent after commit). Refused while one is under way."""
    from . import tasks  # the task module imports this one

    running = active_job()
    if running:
        raise ClusteringError(
            f"A reclustering is already {running.state} (requested at "
            f"{running.requested_at:%Y-%m-%d %H:%M} UTC); wait for it to finish."
        )
    job = ReclusteringJob.objects.create(requested_by=user)
    try:
        send_after_commit(lambda: tasks.recluster.delay(job.pk), undo=job.delete)
    except QueueDown as exc:
        raise NotQueued(str(exc)) from None
    return job


def _set(job: ReclusteringJob, **fields) -> None:
    for name, value in fields.items():
        setattr(job, name, value)
    job.save(update_fields=list(fields))


def recluster_workflows(job_id: int | None = None, *, progress: Progress = None) -> ReclusteringJob:
    """Run reclustering job `job_id` (a new one when None): fit on history plus current
    errors and store the current workflows' clusters. A job already finished is returned
    unchanged (safe to run twice). Raises ClusteringError (job marked refused) when
    another reclustering holds the lock, or (job marked failed) when there is nothing to fit.
    `progress(stage)` is called with each of STAGES as the fit enters it."""
    job = ReclusteringJob.objects.get(pk=job_id) if job_id else ReclusteringJob.objects.create()
    if job.state in (State.DONE, State.FAILED, State.REFUSED):
        return job
    try:
        with job_lock(LOCK_NAME):
            _run_holding_the_lock(job, progress)
    except Busy as exc:
        if job.state == State.RUNNING:
            # A redelivery (the broker's visibility timeout passed) of this very job, which
            # is still running elsewhere: leave it to finish.
            return job
        message = f"another reclustering is running{exc.detail}; this one was not started. {exc.how_to_clear}"
        _set(job, state=State.REFUSED, message=message, finished_at=timezone.now())
        raise ClusteringError(message) from None
    return job


def _run_holding_the_lock(job: ReclusteringJob, progress: Progress) -> None:
    # We hold the lock, so any other "running" job died without finishing.
    ReclusteringJob.objects.filter(state=State.RUNNING).exclude(pk=job.pk).update(
        state=State.FAILED, message="interrupted before it finished", finished_at=timezone.now()
    )
    # Conditional, so a job /cluster meanwhile gave up on as never started stays failed
    # (a running one is a redelivery after a crash: run it again).
    started = ReclusteringJob.objects.filter(pk=job.pk, state__in=[State.QUEUED, State.RUNNING]).update(
        state=State.RUNNING, started_at=timezone.now(), stage=STAGES[0]
    )
    job.refresh_from_db()
    if not started:
        return

    def stage(name: str) -> None:
        _set(job, stage=name)
        if progress:
            progress(name)

    try:
        fit_and_store(job, stage)
    except ClusteringError as exc:
        _set(job, state=State.FAILED, message=str(exc), finished_at=timezone.now(), stage="")
        raise
    except Exception as exc:
        _set(
            job, state=State.FAILED, message=f"unexpected error: {exc}", finished_at=timezone.now(), stage=""
        )
        raise

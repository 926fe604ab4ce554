from django.conf import settings
from django.db import models

from workflows.models import Workflow


class ReclusteringJob(models.Model):
    """One reclustering job: its state while it runs, then the fit it produced."""

    class State(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"
        REFUSED = "refused", "refused (another reclustering was running)"

    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    stage = models.CharField(max_length=100, blank=True, help_text="What a running job is doing")
    message = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # What the fit used and found.
    parameters = models.JSONField(default=dict, blank=True)
    n_clusters = models.PositiveIntegerField(default=0)
    current_samples = models.PositiveIntegerField(default=0)
    history_samples = models.PositiveIntegerField(default=0)
    inertia = models.FloatField(null=True, blank=True)
    model_file = models.CharField(max_length=500, blank=True)
    # Per cluster: {"cluster", "size", "codes": [[code, n]], "sites": [[site, n]]}.
    summary = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self):
        return f"reclustering {self.pk} ({self.state})"

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class ClusterMembership(models.Model):
    """The cluster of a current workflow in the last fit (or placed later with `predict`),
    with its point on the 2-D projection."""

    class Placement(models.TextChoices):
        FIT = "fit", "fitted"
        PREDICT = "predict", "placed with the stored model"

    workflow = models.OneToOneField(Workflow, on_delete=models.CASCADE, related_name="cluster_membership")
    clustering = models.ForeignKey(ReclusteringJob, on_delete=models.CASCADE, related_name="members")
    cluster = models.PositiveIntegerField()
    placement = models.CharField(max_length=8, choices=Placement.choices, default=Placement.FIT)
    x = models.FloatField(default=0.0)
    y = models.FloatField(default=0.0)

    class Meta:
        indexes = [models.Index(fields=["clustering", "cluster"])]

    def __str__(self):
        return f"{self.workflow_id} in cluster {self.cluster}"


class Predictor(models.Model):
    """One training of the action classifier: which model won and how well it did."""

    trained_at = models.DateTimeField(auto_now_add=True, db_index=True)
    samples = models.PositiveIntegerField(default=0)
    model_file = models.CharField(max_length=500, blank=True)
    # Per target ("action", "memory", ...): {"model", "cv_accuracy", "baseline", "classes"}.
    scores = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-trained_at"]
        get_latest_by = "trained_at"

    def __str__(self):
        return f"action predictor of {self.trained_at:%Y-%m-%d %H:%M}"


class StoredSuggestion(models.Model):
    """A workflow's suggested action (or why there is none), computed by the worker for every
    workflow with current errors, so the web process never loads the predictor (scikit-learn,
    numpy). Valid for one predictor and one snapshot of current errors; the page treats a row
    of another as missing ("being computed")."""

    workflow = models.OneToOneField(Workflow, on_delete=models.CASCADE, related_name="stored_suggestion")
    predictor = models.ForeignKey(Predictor, on_delete=models.CASCADE, related_name="suggestions")
    # The ErrorImport (kind current) that was the current snapshot when computed; None before any.
    snapshot_id = models.BigIntegerField(null=True, blank=True)
    # "" with an action; else why not: "unseen" or "unreadable" (prediction.PageSuggestion).
    why_not = models.CharField(max_length=32, blank=True)
    detail = models.TextField(blank=True)
    action = models.CharField(max_length=32, blank=True)
    probability = models.FloatField(null=True, blank=True)
    parameters = models.JSONField(default=list, blank=True)  # [[name, value, probability]]

    def __str__(self):
        return f"suggestion for {self.workflow_id}: {self.action or self.why_not}"

import re

from django.core.exceptions import ValidationError
from django.db import models

from workflows.models import Step, Workflow


class ErrorCount(models.Model):
    """The current snapshot: failed jobs per (step, exit code, site). Zero is never stored."""

    # No index of its own: unique_current_cell starts with the step and serves its look-ups,
    # and every index is paid for on each ingestion's bulk write.
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="errors", db_index=False)
    exit_code = models.IntegerField()
    site = models.CharField(max_length=100)
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["step", "exit_code", "site"], name="unique_current_cell"),
            models.CheckConstraint(condition=models.Q(count__gt=0), name="current_count_positive"),
        ]
        indexes = [models.Index(fields=["site", "exit_code"]), models.Index(fields=["exit_code"])]

    def __str__(self):
        return f"{self.step_id} {self.exit_code} @ {self.site}: {self.count}"


class SnapshotCellTotal(models.Model):
    """The current snapshot summed per (exit code, site), with its biggest steps: rebuilt by
    every ingestion inside its transaction (errors/snapshot_totals.py), so the global view
    reads ~1,000 rows here instead of summing every cell of the snapshot."""

    exit_code = models.IntegerField()
    site = models.CharField(max_length=100)
    total = models.PositiveBigIntegerField()
    steps = models.PositiveIntegerField(help_text="Steps with errors in this cell")
    # [[step id, count], ...]: the biggest steps, biggest first, ties by step id.
    top_steps = models.JSONField(default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["exit_code", "site"], name="unique_cell_total")]

    def __str__(self):
        return f"{self.exit_code} @ {self.site}: {self.total}"


class SnapshotWorkflowTotal(models.Model):
    """The current snapshot's errors per workflow, rebuilt with SnapshotCellTotal: the global
    view's prep-ID groups and campaign totals are sums over these rows."""

    workflow = models.OneToOneField(Workflow, primary_key=True, on_delete=models.CASCADE, related_name="+")
    total = models.PositiveBigIntegerField()

    def __str__(self):
        return f"{self.workflow_id}: {self.total}"


class SnapshotSiteTotal(models.Model):
    """The current snapshot summed per site, rebuilt with SnapshotCellTotal (errors/site_totals.py):
    every page that shows sites reads these few dozen rows instead of counting the distinct
    workflows and steps of every cell (over a second at 20,000 workflows)."""

    site = models.CharField(max_length=100, unique=True)
    errors = models.PositiveBigIntegerField()
    workflows = models.PositiveIntegerField(help_text="Workflows with errors at this site")
    steps = models.PositiveIntegerField(help_text="Steps with errors at this site")

    def __str__(self):
        return f"{self.site}: {self.errors}"


class ErrorHistory(models.Model):
    """Past counts, one row per (step, exit code, site, time bucket)."""

    # No index of its own: unique_history_cell starts with the step (as for ErrorCount).
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="history", db_index=False)
    exit_code = models.IntegerField()
    site = models.CharField(max_length=100)
    count = models.PositiveIntegerField()
    bucket = models.DateTimeField(help_text="Start of the time bucket the count was seen in")

    class Meta:
        verbose_name_plural = "error history"
        constraints = [
            models.UniqueConstraint(
                fields=["step", "exit_code", "site", "bucket"], name="unique_history_cell"
            ),
        ]
        indexes = [
            models.Index(fields=["bucket", "exit_code"]),
            models.Index(fields=["bucket", "site"]),
        ]

    def __str__(self):
        return f"{self.bucket:%Y-%m-%d %H:%M} {self.step_id} {self.exit_code} @ {self.site}: {self.count}"


class ErrorImport(models.Model):
    """One run of ingestion: when, from where, what it stored and what it skipped."""

    class Kind(models.TextChoices):
        CURRENT = "current", "current errors"
        HISTORY = "history", "history"
        # The original tool's history database, loaded by `manage.py import_wwt`.
        IMPORTED = "imported", "imported from the original tool"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    source = models.CharField(max_length=1000)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    workflows = models.PositiveIntegerField(default=0)
    steps = models.PositiveIntegerField(default=0)
    cells = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    bad_entries = models.PositiveIntegerField(default=0)
    dropped_steps = models.PositiveIntegerField(
        default=0, help_text="LogCollect and Cleanup steps left out (errors.keep_logcollect_cleanup)"
    )
    bad_examples = models.JSONField(default=list, blank=True)
    # Set when SnapshotCellTotal / SnapshotWorkflowTotal were rebuilt for this import: only
    # then may the global view read them instead of the cells.
    totals_built = models.BooleanField(default=False, editable=False)
    pinned_at = models.DateTimeField(
        null=True, blank=True, help_text="When a ticket link kept this snapshot's cells (PinnedCell)"
    )

    class Meta:
        ordering = ["-finished_at"]
        get_latest_by = "finished_at"
        indexes = [models.Index(fields=["kind", "-finished_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} from {self.source} at {self.finished_at:%Y-%m-%d %H:%M}"


class PinnedCell(models.Model):
    """A cell of a past current-errors snapshot kept for ticket links (errors/pinning.py): the
    fields of ErrorCount, so the pages' selectors read either with the same query."""

    snapshot = models.ForeignKey(ErrorImport, on_delete=models.CASCADE, related_name="pinned_cells")
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="pinned_errors")
    exit_code = models.IntegerField()
    site = models.CharField(max_length=100)
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "step", "exit_code", "site"], name="unique_pinned_cell"
            ),
        ]
        indexes = [models.Index(fields=["snapshot", "site", "exit_code"])]

    def __str__(self):
        return f"snapshot {self.snapshot_id}: {self.step_id} {self.exit_code} @ {self.site}: {self.count}"


class LogSample(models.Model):
    """A log sample from WMStats job details for (step, exit code, site). `exit_code` is
    the cell WMStats files it under; `sample_exit_code` and `error_type` are the sample's
    own, which may differ (a log-archive failure 99999 inside an 8001 cell)."""

    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="log_samples")
    exit_code = models.IntegerField()
    site = models.CharField(max_length=100, blank=True)
    sample_exit_code = models.IntegerField(
        null=True, blank=True, help_text="The sample's own exitCode (None when WMStats gave none)"
    )
    error_type = models.CharField(max_length=200, blank=True)
    details = models.TextField()
    fetched_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["step", "exit_code"])]

    def __str__(self):
        return f"{self.step_id} {self.exit_code} @ {self.site}"


class MessageGroup(models.Model):
    """A workflow's stored log samples that say the same thing: one (exit code, masked message)
    (errors/messages.py). Built once when a fetched sample set is stored (errors.log_samples),
    so the workflow page and the top-messages page only read and sum these rows."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="message_groups")
    # The samples' own exit code (the cell's when WMStats gave none).
    exit_code = models.IntegerField()
    message = models.TextField(
        help_text="The masked message, at most errors.messages.MESSAGE_CHARS characters"
    )
    message_key = models.CharField(max_length=16, help_text="errors.messages.message_key(exit_code, message)")
    samples = models.PositiveIntegerField()
    sites = models.PositiveIntegerField(help_text="Distinct sites of the samples")
    # Ids of the LogSample rows a page shows (up to errors.messages.SAMPLES_PER_GROUP);
    # they are replaced together with the samples, so they always exist.
    shown_samples = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "message_key"], name="unique_workflow_message"),
        ]
        indexes = [models.Index(fields=["message_key", "workflow"])]

    def __str__(self):
        return f"{self.workflow_id} {self.exit_code}: {self.message[:60]}"


class Procedure(models.Model):
    """The recommended procedure for an exit code (seeded from the original tool)."""

    exit_code = models.IntegerField(unique=True)
    cause = models.TextField(blank=True)
    normal_procedure = models.TextField(blank=True)
    additional_procedure = models.TextField(blank=True)
    match_expression = models.CharField(
        max_length=500, blank=True, help_text="Regular expression run on log snippets; group(1) is shown."
    )

    class Meta:
        ordering = ["exit_code"]

    def __str__(self):
        return f"{self.exit_code}: {self.cause[:60]}"

    def clean(self):
        if self.match_expression:
            try:
                re.compile(self.match_expression)
            except re.error as exc:
                raise ValidationError({"match_expression": f"Not a valid regular expression: {exc}"}) from exc

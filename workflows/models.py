from django.db import models


def short_task_name(workflow_name: str, step_name: str) -> str:
    """The step path without its leading `/<workflow>/` (what Unified calls the task)."""
    prefix = f"/{workflow_name}/"
    return step_name[len(prefix) :] if step_name.startswith(prefix) else step_name.split("/", 2)[-1]


class Workflow(models.Model):
    """A production request. Names come from outside and are untrusted text."""

    name = models.CharField(max_length=400)
    prep_id = models.CharField(max_length=200, blank=True)
    campaign = models.CharField(max_length=200, blank=True)
    is_acdc = models.BooleanField(default=False)
    # An ACDC (recovery) workflow points at the original of its prep ID.
    original = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="acdcs"
    )
    request_type = models.CharField(max_length=64, blank=True)
    request_status = models.CharField(max_length=64, blank=True)
    requested_at = models.DateTimeField(null=True, blank=True)
    # ReqMgr2's parameters as sources.fetch_request parsed them (less requested_at), kept by
    # the refresh job so pages read the database; null until ReqMgr2 was first asked.
    request_parameters = models.JSONField(null=True, blank=True)
    request_fetched_at = models.DateTimeField(null=True, blank=True)
    # The ACDC server's {task: storage locations} of the failed files, kept by the refresh
    # job (services.refresh_recovery_locations) so pages never wait on it; null until asked.
    recovery_locations = models.JSONField(null=True, blank=True)
    recovery_fetched_at = models.DateTimeField(null=True, blank=True)
    first_seen = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        # Declared here, not as unique=True/db_index=True: on PostgreSQL those also build a
        # varchar_pattern_ops copy of each column for LIKE 'x%', which nothing asks, and every
        # ingestion pays for each index (a campaign-only index is the pair's first column).
        constraints = [models.UniqueConstraint(fields=["name"], name="unique_workflow_name")]
        indexes = [
            models.Index(fields=["campaign", "prep_id"]),
            models.Index(fields=["prep_id"], name="workflow_prep_id"),
        ]

    def __str__(self):
        return self.name


class Step(models.Model):
    """A task of a workflow, named as a path `/<workflow>/<task>[/<subtask>...]`."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(max_length=1000)

    class Meta:
        ordering = ["name"]
        # Not unique=True: see Workflow.Meta (no LIKE index on PostgreSQL).
        constraints = [models.UniqueConstraint(fields=["name"], name="unique_step_name")]

    def __str__(self):
        return self.name

    @property
    def short_name(self) -> str:
        """The step path without its leading `/<workflow>/`."""
        workflow_name = self.workflow.name if "workflow" in self._state.fields_cache else ""
        return short_task_name(workflow_name, self.name)


class Site(models.Model):
    """A CMS compute site the tool knows: one with a status, or one seen in errors.
    Auto site lists keep only known sites (ACDC locations name storage, not sites)."""

    name = models.CharField(max_length=100, unique=True)
    # What the site-status source said at the last refresh; "" when it never named the site.
    status = models.CharField(max_length=32, blank=True)
    status_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

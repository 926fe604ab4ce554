import json
import secrets
import time

from django.conf import settings
from django.db import connection, models, transaction

from workflows.models import Workflow


class ActionKind(models.TextChoices):
    ACDC = "acdc", "ACDC"
    RECOVERY = "recovery", "recovery"
    CLONE = "clone", "kill and clone"
    SPECIAL = "special", "special"


class Reason(models.Model):
    """A reusable reason: a short label operators pick, and the long text sent on."""

    short = models.CharField(max_length=100, unique=True)
    long = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["short"]

    def __str__(self):
        return self.short


# Unified's `acted` encoding, the one place it is read: 0 pending, >= 1 reported, < 0 all.
ACTED_OF_STATUS = {"pending": 0, "reported": 1, "all": -1}


class ActedQuerySet(models.QuerySet):
    """Actions and their history, selected the way Unified and the pages name their state."""

    def acted(self, acted: int) -> "ActedQuerySet":
        """The actions Unified's `acted=` selects."""
        if acted == 0:
            return self.filter(reported_at__isnull=True)
        if acted > 0:
            return self.filter(reported_at__isnull=False)
        return self

    def with_status(self, status: str) -> "ActedQuerySet":
        """The actions of a status as pages name it: pending, reported or all."""
        return self.acted(ACTED_OF_STATUS[status])


class ActionQuerySet(ActedQuerySet):
    """Every bulk write of actions (update, bulk_update, bulk_create, delete) also forgets
    getaction's cached replies, so a new write path cannot serve stale actions; single saves
    and deletes (the admin's, cascades from workflows) do it through signals (actions/apps.py).
    The history (ActionSubmission) is not served: its writes forget nothing."""

    def _forget(self) -> None:
        # The history (ActionSubmission shares this queryset) is not what getaction serves.
        if self.model is Action:
            forget_served_actions()

    def update(self, **kwargs):
        rows = super().update(**kwargs)
        self._forget()
        return rows

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        self._forget()
        return created

    def delete(self):
        deleted = super().delete()
        self._forget()
        return deleted


class Action(models.Model):
    """The pending (or last reported) action of a workflow: one per workflow.

    `parameters` holds exactly what Unified is served; `reasons` is a list of
    {"short", "long"} as submitted. A resubmission replaces it and makes it pending again.
    """

    workflow = models.OneToOneField(Workflow, on_delete=models.CASCADE, related_name="action")
    action = models.CharField(max_length=16, choices=ActionKind.choices)
    parameters = models.JSONField(default=dict)
    reasons = models.JSONField(default=list)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # The username the original tool recorded, for an imported action: its operators have no
    # account here (they sign up again), yet Unified and the history still name them.
    recorded_user = models.CharField(max_length=150, blank=True, default="")
    submitted_at = models.DateTimeField(db_index=True)
    # Indexed by `action_acted_age` below (reported_at first), which serves both filters.
    reported_at = models.DateTimeField(null=True, blank=True)
    # ACDC workflows of the same prep ID submitted after the original, as known at submission;
    # a snapshot so that serving getaction needs no per-action query.
    acdcs = models.JSONField(default=list, blank=True)
    # The history row this action came from, so a report marks exactly that submission.
    submission = models.ForeignKey(
        "ActionSubmission", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # This workflow's member of getaction's JSON object, `"<workflow>": {...}`, rendered when the
    # action is written: getaction joins these texts in the database, with no join to workflows
    # and no decoding and re-encoding of three JSON fields a row.
    served = models.TextField(default="", editable=False)

    objects = ActionQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at"]
        indexes = [models.Index(fields=["reported_at", "submitted_at"], name="action_acted_age")]

    def __str__(self):
        return f"{self.action} for {self.workflow}"

    def save(self, *args, **kwargs):
        # Any save (the admin's too) keeps what Unified is served in step with the fields.
        self.render_served()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "served"}
        super().save(*args, **kwargs)

    @property
    def submitter(self) -> str:
        """Who submitted it: the account, or the name the original tool recorded (imported)."""
        return self.user.username if self.user_id else self.recorded_user

    @property
    def is_pending(self) -> bool:
        return self.reported_at is None

    def render_served(self, username: str | None = None, workflow_name: str | None = None) -> str:
        """Set and return `served` from the fields (pass `username` / `workflow_name` when known,
        to save a query)."""
        if username is None:
            username = self.user.username if self.user_id else self.recorded_user
        if workflow_name is None:
            workflow_name = self.workflow.name
        longs = [reason["long"] for reason in self.reasons if reason.get("long")]
        entry = {
            "Action": self.action,
            "Parameters": self.parameters,
            "Reasons": longs,
            "Reason": " ".join(longs),
            "user": username,
            "ACDCs": self.acdcs,
        }
        self.served = f"{json.dumps(workflow_name)}:{json.dumps(entry)}"
        return self.served

    def served_entry(self) -> dict:
        """What getaction serves for this workflow, as a dict."""
        return next(iter(json.loads("{" + self.served + "}").values()))


class RequesterNotice(models.TextChoices):
    """Whether the workflow's requester was told of a submission (the form's checkbox)."""

    NOT_ASKED = "", "not asked"
    QUEUED = "queued", "queued"
    SENT = "sent", "sent"
    FAILED = "failed", "not sent"
    NO_ADDRESS = "no_address", "no address known"


class ServedVersion(models.Model):
    """One row whose random `token` changes with every write to actions, in the writer's
    transaction: getaction's cached replies are keyed by it (actions/served.py), so none is
    read after a write, even one made while Redis was down or in another process."""

    token = models.CharField(max_length=32)

    def __str__(self):
        return self.token


SERVED_VERSION_PK = 1


def new_served_token() -> str:
    return secrets.token_hex(16)


class ServedTokenLease:
    """The token this process last read, trusted without reading it again until `until`
    (time.monotonic()): a warm poll then costs no query (actions/served.py).

    It stays right across processes because every write waits `seconds` after its commit
    before it returns (`forget_served_actions`): a lease taken before the commit has run out
    by then, so a poll that starts after a write has returned reads the new token, in any
    process. In the writer's own process the lease ends at once, before the commit."""

    seconds = 0.02  # what every write waits: small beside reportaction's 100 ms
    held: tuple[str | None, float] = (None, 0.0)  # one tuple, swapped whole: safe across threads

    @classmethod
    def trusted_token(cls, now: float) -> tuple[bool, str | None]:
        token, until = cls.held
        return now < until, token

    @classmethod
    def take(cls, token: str | None, read_started: float) -> None:
        # From before the read, whose snapshot is no older (a statement's own under PostgreSQL's
        # read committed; SQLite's IMMEDIATE transactions let no other write commit meanwhile):
        # a write that commits after that snapshot waits past this end.
        cls.held = (token, read_started + cls.seconds)

    @classmethod
    def end(cls) -> None:
        cls.held = (None, 0.0)

    @classmethod
    def wait_out(cls) -> None:
        time.sleep(cls.seconds)


def forget_served_actions() -> None:
    """Make every cached getaction reply stale: call it after any write that changes what
    Unified is served (ActionQuerySet and the signals in actions/apps.py already do). The
    transaction's commit then waits out the leases other processes hold (ServedTokenLease)."""
    bump = ServedVersion.objects.filter(pk=SERVED_VERSION_PK)
    if not bump.update(token=new_served_token()):
        # The row is missing (a flushed database): create it; a concurrent creator wins
        # and this write's token is set just after.
        ServedVersion.objects.bulk_create([ServedVersion(pk=SERVED_VERSION_PK)], ignore_conflicts=True)
        bump.update(token=new_served_token())
    ServedTokenLease.end()
    # Once per transaction, however many writes it makes (Django keeps the open transaction's
    # callbacks as (savepoints, callback, robust) tuples, and drops those of a rolled-back savepoint).
    if not any(ServedTokenLease.wait_out in entry for entry in connection.run_on_commit):
        transaction.on_commit(ServedTokenLease.wait_out)


class ActionSubmission(models.Model):
    """Every submission ever made, kept as history (who, when, what, when reported)."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="action_submissions")
    action = models.CharField(max_length=16, choices=ActionKind.choices)
    parameters = models.JSONField(default=dict)
    reasons = models.JSONField(default=list)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_user = models.CharField(max_length=150, blank=True, default="")  # see Action.recorded_user
    submitted_at = models.DateTimeField(db_index=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    acdcs = models.JSONField(default=list, blank=True)
    # Submissions made together (a workflow plus the similar workflows checked with it)
    # share a batch: the workflows an action was applied to.
    batch = models.UUIDField(null=True, blank=True, db_index=True)
    # "Tell the requester": the address written to, when the mail went, or why it did not.
    requester_notice = models.CharField(
        max_length=16, blank=True, default="", choices=RequesterNotice.choices
    )
    requester_address = models.CharField(max_length=254, blank=True, default="")
    requester_notified_at = models.DateTimeField(null=True, blank=True)
    requester_problem = models.CharField(max_length=300, blank=True, default="")
    # A pending action an operator withdrew (services.withdraw_actions): who, when and why.
    # Its Action row is gone, so getaction no longer serves it; the history keeps it.
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_reason = models.TextField(blank=True, default="")

    objects = ActedQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at"]
        indexes = [models.Index(fields=["workflow", "-submitted_at"])]
        # "Action submissions" read like a second list of Actions: this is every submission kept.
        verbose_name = "action history entry"
        verbose_name_plural = "action history"

    def __str__(self):
        return f"{self.action} for {self.workflow} at {self.submitted_at:%Y-%m-%d %H:%M}"

    @property
    def submitter(self) -> str:
        return self.user.username if self.user_id else self.recorded_user

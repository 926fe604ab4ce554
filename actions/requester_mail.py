"""Telling the requester: a mail to the workflow's ReqMgr2 Requestor about a submitted action.

The form's checkbox (or the API's `tell_requester`) marks the batch's history rows `queued`
inside the submission's transaction; once it commits, `queue_batch` hands the batch to a Celery
task (`actions.tasks.tell_requesters`), which retries when the mail server fails and records on
each row that the mail was sent (or why not). A rolled-back submission queues nothing.

Addresses: `actions.tell_requester.addresses` ({requestor: address}) first, else
`<requestor>@<domain>`. The Requestor comes from the ReqMgr2 parameters stored on the workflow
(never a live call while the operator waits); unknown, it is recorded as "no address known".
"""

import logging
import re
import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from workflows.models import Workflow

from .display import parameters_in_one_line
from .models import ActionKind, ActionSubmission, RequesterNotice

logger = logging.getLogger(__name__)

# A CERN login (or a full address): nothing that could smuggle a header or a second recipient.
_REQUESTOR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")
_ADDRESS = re.compile(r"^[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def _config() -> dict:
    return settings.WWT["actions"]["tell_requester"]


def ticked_by_default(action: str) -> bool:
    """Whether the form's "tell the requester" box starts ticked for `action`."""
    return action in _config()["default_for"]


def requestor_of(workflow: Workflow) -> str:
    """The ReqMgr2 Requestor stored for `workflow`, or "" when ReqMgr2 was never read."""
    parameters = workflow.request_parameters if isinstance(workflow.request_parameters, dict) else {}
    requestor = parameters.get("requestor") or ""
    return requestor.strip() if isinstance(requestor, str) else ""


def address_of(requestor: str) -> str:
    """The address to write to `requestor`, or "" when none can be made safely."""
    if not requestor:
        return ""
    config = _config()
    mapped = config["addresses"].get(requestor.lower())
    if mapped:
        return mapped if _ADDRESS.match(mapped) else ""
    if _ADDRESS.match(requestor):
        return requestor
    if config["domain"] and _REQUESTOR.match(requestor):
        return f"{requestor}@{config['domain']}"
    return ""


def mark_requested(submissions: list[ActionSubmission], workflows: list[Workflow]) -> None:
    """Record on the (unsaved) history rows who will be told: `queued` with an address, or
    `no_address`. Part of the submission's transaction."""
    for submission, workflow in zip(submissions, workflows, strict=True):
        submission.requester_address = address_of(requestor_of(workflow))
        if submission.requester_address:
            submission.requester_notice = RequesterNotice.QUEUED
        else:
            submission.requester_notice = RequesterNotice.NO_ADDRESS
            submission.requester_problem = "the request's Requestor is not known (ReqMgr2 not read yet)"


def queue_batch(batch: uuid.UUID) -> None:
    """Once the submission commits, send the batch's mails from the worker. A broker that is
    down does not undo the action: the rows say the mail was not sent, and why."""

    def send() -> None:
        from .tasks import tell_requesters  # the task module imports this one

        try:
            tell_requesters.delay(str(batch))
        except (BrokerError, OSError) as exc:
            logger.error("could not queue the requester mails of batch %s: %s", batch, exc)
            ActionSubmission.objects.filter(batch=batch, requester_notice=RequesterNotice.QUEUED).update(
                requester_notice=RequesterNotice.FAILED,
                requester_problem="the task queue (Redis) was unreachable when the action was submitted",
            )

    transaction.on_commit(send)


def _workflow_link(name: str) -> str:
    base = _config()["page_url"]
    return f"{base.rstrip('/')}/seeworkflow?{urlencode({'workflow': name})}" if base else ""


def _signature(user) -> str:
    if user is None:
        return "The CMS workflow team"
    name = user.get_full_name() or user.username
    return f"{name} ({user.email})" if user.email else name


def compose(address: str, submissions: list[ActionSubmission]) -> EmailMessage:
    """One mail to one requester about the workflows of one batch (same action, same reasons)."""
    first = submissions[0]
    label = ActionKind(first.action).label
    names = [s.workflow.name for s in submissions]
    subject = (
        f"[WWT] {label} for {names[0]}"
        if len(names) == 1
        else f"[WWT] {label} for {len(names)} of your workflows"
    )
    whose = "your workflow" if len(names) == 1 else "these workflows of yours"
    lines = [
        "Hello,",
        "",
        f"The CMS workflow team has decided on an action for {whose}.",
        "Unified carries it out within minutes.",
        "",
    ]
    for submission in submissions:
        lines += [
            f"Workflow:   {submission.workflow.name}",
            f"Action:     {label}",
            f"Parameters: {parameters_in_one_line(submission.action, submission.parameters)}",
        ]
        if link := _workflow_link(submission.workflow.name):
            lines.append(f"Errors:     {link}")
        lines.append("")
    lines += ["Reasons:"] + [f"- {reason['long']}" for reason in first.reasons if reason.get("long")]
    lines += ["", "Regards,", _signature(first.user), "on behalf of the CMS workflow team (sent by WWT)"]
    reply_to = [first.user.email] if first.user and first.user.email else []
    return EmailMessage(
        subject=subject.replace("\n", " ").replace("\r", " "),
        body="\n".join(lines) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
        reply_to=reply_to,
    )


def send_batch(batch: str) -> dict:
    """Send the queued mails of `batch`, one per address, and mark those rows sent.

    Each address's rows are locked while its mail goes and marked in the same transaction, so a
    redelivered task never sends them twice; a mail server error propagates (the task retries)
    and leaves that address's rows queued, while mails already sent stay marked.
    """
    sent, addresses = 0, []
    queued = ActionSubmission.objects.filter(batch=batch, requester_notice=RequesterNotice.QUEUED)
    for address in sorted(set(queued.values_list("requester_address", flat=True))):
        with transaction.atomic():
            submissions = list(
                queued.select_for_update(of=("self",))
                .select_related("workflow", "user")
                .filter(requester_address=address)
                .order_by("workflow__name")
            )
            if not submissions:
                continue  # another worker sent them meanwhile
            compose(address, submissions).send()
            ActionSubmission.objects.filter(pk__in=[s.pk for s in submissions]).update(
                requester_notice=RequesterNotice.SENT,
                requester_notified_at=timezone.now(),
                requester_problem="",
            )
        sent += len(submissions)
        addresses.append(address)
    return {"batch": batch, "sent": sent, "addresses": addresses}


def give_up(batch: str, problem: str) -> None:
    """The last retry failed: say so on the rows still queued."""
    ActionSubmission.objects.filter(batch=batch, requester_notice=RequesterNotice.QUEUED).update(
        requester_notice=RequesterNotice.FAILED, requester_problem=problem[:300]
    )

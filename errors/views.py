"""Pages about errors: thin views over errors.selectors (reads) and the services. A GET
reads the database and cache only: log samples are fetched in the background."""

import re
import uuid
from urllib.parse import urlencode

from celery.result import AsyncResult
from django.contrib import messages
from django.http import JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_celery_results.models import TaskResult

from accounts.decorators import verified_required
from workflows import selectors as workflow_selectors
from workflows.models import Step, Workflow
from wwt_project.http import bad_request, first_error, not_found, problem_page
from wwt_project.page_data import json_problem, render_page, wants_json
from wwt_project.page_schema import data_page
from wwt_project.queue import QueueDown, send_after_commit

from . import data_schemas, log_samples, pinning, tasks
from .forms import (
    ExplainErrorForm,
    GlobalViewForm,
    ListPageForm,
    MessageWorkflowsForm,
    PinForm,
    TopMessagesForm,
    TrendsForm,
)
from .models import Procedure
from .selectors.explanations import snippets
from .selectors.global_view import PIEVAR_LABELS, global_view
from .selectors.list_page import list_page as list_page_rows
from .selectors.messages import message_workflows as message_workflows_view
from .selectors.messages import top_messages as top_messages_view
from .selectors.overview import overview
from .selectors.sites import sites_page
from .selectors.snapshot import (
    PINNED_DAYS,
    ErrorsQueryError,
    NoSuchSnapshot,
    ShownSnapshot,
    SnapshotNotKept,
    shown_snapshot,
)
from .selectors.trends import error_trends


def home(request):
    return render(request, "home.html", {"overview": overview()})


FILTER_PARAMETERS = ("min_errors", "no_pending", "grew", "hide_campaign", "hide_site")


def _without_filters(request) -> list[tuple[str, str]]:
    """The page's query string less the noise filters (and the page number): what the filter
    form carries along and what "clear filters" leads to."""
    return [
        (key, value)
        for key, values in request.GET.lists()
        if key not in FILTER_PARAMETERS and key != "page"
        for value in values
    ]


def snapshot_or_problem(request, *, needs_cells: bool = True) -> tuple[ShownSnapshot | None, object]:
    """(the snapshot `?snapshot=` names, None) or (None, the 400 / 404 / 410 answer)."""
    try:
        return shown_snapshot(request.GET.get("snapshot", ""), needs_cells=needs_cells), None
    except NoSuchSnapshot as exc:
        return None, not_found(request, str(exc))
    except SnapshotNotKept as exc:
        return None, problem_page(request, "Snapshot not kept", str(exc), 410)
    except ErrorsQueryError as exc:
        return None, bad_request(request, str(exc))


@data_page(summary="Global error view", form=GlobalViewForm, data=data_schemas.GLOBAL_VIEW)
def global_error(request):
    form = GlobalViewForm(request.GET)
    if not form.is_valid():
        return bad_request(request, first_error(form))
    snapshot, problem = snapshot_or_problem(request)
    if problem:
        return problem
    query = form.cleaned_data
    status_answer = workflow_selectors.site_status_answer()
    filters = form.noise_filters()
    view = global_view(
        query["pievar"],
        page=query["page"] or 1,
        campaign=query["campaign"],
        prep_id=query["prep_id"],
        site=query["sitename"],
        sort=query["sort"],
        compact=query["compact"],
        statuses=status_answer.value or {},
        filters=filters,
        snapshot=snapshot,
    )
    # Pager links keep every choice but the page; defaults stay out of the URL.
    kept = [
        ("pievar", query["pievar"]),
        ("campaign", query["campaign"]),
        ("prep_id", query["prep_id"]),
        ("sitename", query["sitename"]),
    ]
    if query["sort"] != "errors":
        kept.append(("sort", query["sort"]))
    if query["compact"]:
        kept.append(("compact", "1"))
    unfiltered = _without_filters(request)
    return render_page(
        request,
        "errors/global.html",
        {
            "view": view,
            "query": query,
            "pievars": PIEVAR_LABELS,
            "query_base": urlencode(kept + filters.query()) + "&",
            "status_answer": status_answer,
            "filters": filters,
            "grew_since": view["grew_since"],
            "filter_query": urlencode(filters.query()),
            "unfiltered": unfiltered,
            "unfiltered_query": urlencode(unfiltered),
            "snapshot": snapshot,
        },
        data={"snapshot": snapshot, "query": query, "view": view},
    )


@data_page(summary="List page", form=ListPageForm, data=data_schemas.LIST_PAGE)
def list_page(request):
    form = ListPageForm(request.GET)
    if not form.is_valid():
        return bad_request(request, first_error(form))
    snapshot, problem = snapshot_or_problem(request)
    if problem:
        return problem
    query = form.cleaned_data
    workflow = step = None
    if query["workflowstep"]:
        step = Step.objects.select_related("workflow").filter(name=query["workflowstep"]).first()
        if step is None:
            return not_found(request, f"No workflow step is named {query['workflowstep']}.")
        workflow = step.workflow
    elif query["workflow"]:
        workflow = Workflow.objects.filter(name=query["workflow"]).first()
        if workflow is None:
            return not_found(request, f"No workflow is named {query['workflow']}.")
    status_answer = workflow_selectors.site_status_answer()
    filters = form.noise_filters()
    listing = list_page_rows(
        errorcode=query["errorcode"],
        sitename=query["sitename"],
        workflow=workflow,
        step=step,
        sort=query["sort"],
        statuses=status_answer.value or {},
        filters=filters,
        snapshot=snapshot,
    )
    # The sort links keep the rest of the query as given (filters repeat their keys).
    sort_base = urlencode(
        [(key, value) for key, values in request.GET.lists() if key != "sort" for value in values]
    )
    unfiltered = _without_filters(request)
    return render_page(
        request,
        "errors/list.html",
        {
            "listing": listing,
            "query": query,
            "workflow": workflow,
            "step": step,
            "sort_base": sort_base + "&" if sort_base else "",
            "status_answer": status_answer,
            "filters": filters,
            "grew_since": listing["grew_since"],
            "unfiltered": unfiltered,
            "unfiltered_query": urlencode(unfiltered),
            "snapshot": snapshot,
        },
        data={"snapshot": snapshot, "query": query, "listing": listing},
    )


@require_http_methods(["GET", "POST"])
def explain_error(request):
    if request.method == "POST":
        return _queue_log_samples(request)
    form = ExplainErrorForm(request.GET)
    if not form.is_valid():
        return bad_request(request, first_error(form))
    code, step_name = form.cleaned_data["errorcode"], form.cleaned_data["workflowstep"]
    step = Step.objects.select_related("workflow").filter(name=step_name).first()
    if step is None:
        return not_found(request, f"No workflow step is named {step_name}.")
    procedure = Procedure.objects.filter(exit_code=code).first()
    found = snippets(step, code, procedure)
    parameters = sorted({value for snippet in found for value in snippet.parameters})
    return render(
        request,
        "errors/explain.html",
        {
            "step": step,
            "exit_code": code,
            "procedure": procedure,
            "snippets": found,
            "parameters": parameters,
            "samples": log_samples.log_samples_state(step.workflow),
        },
    )


@verified_required
@require_http_methods(["POST"])
def _queue_log_samples(request):
    """ "Fetch the log samples now": enqueue the fetch and come back at once (GET shows
    "fetching…" until the worker is done)."""
    form = ExplainErrorForm(request.POST)
    if not form.is_valid():
        return bad_request(request, first_error(form))
    step = Step.objects.select_related("workflow").filter(name=form.cleaned_data["workflowstep"]).first()
    if step is None:
        return not_found(request, f"No workflow step is named {form.cleaned_data['workflowstep']}.")
    problem = log_samples.queue_log_samples(step.workflow)
    if problem:
        messages.error(request, problem)
    query = {"errorcode": request.POST.get("errorcode", ""), "workflowstep": step.name}
    return redirect(f"{reverse('errors:explain')}?{urlencode(query)}")


def procedures(request):
    return render(request, "errors/procedures.html", {"procedures": Procedure.objects.all()})


@data_page(summary="Errors per site", data=data_schemas.SITES)
def sites(request):
    snapshot, problem = snapshot_or_problem(request)
    if problem:
        return problem
    answer = workflow_selectors.site_status_answer()
    found = sites_page(answer.value or {}, snapshot)
    return render_page(
        request,
        "errors/sites.html",
        {"sites": found, "status_answer": answer, "snapshot": snapshot},
        data={"snapshot": snapshot, "site_status_problem": answer.problem, "sites": found["rows"]},
    )


@data_page(
    summary="Error trends",
    form=TrendsForm,
    data=data_schemas.TRENDS,
    description="With ?snapshot=, the history up to that snapshot (no pinned cells needed).",
)
def trends(request):
    form = TrendsForm(request.GET)
    if not form.is_valid():
        return bad_request(request, first_error(form))
    # The history is kept, so a ticket link needs no pinned cells: the snapshot fixes the end.
    snapshot, problem = snapshot_or_problem(request, needs_cells=False)
    if problem:
        return problem
    days = form.cleaned_data["days"]
    until = snapshot.finished_at if snapshot.pinned else None
    found = error_trends(days=days, until=until)
    return render_page(
        request,
        "errors/trends.html",
        {"trends": found, "days": days, "snapshot": snapshot},
        data={"snapshot": snapshot, "days": days, "trends": found},
    )


@verified_required
@require_http_methods(["POST"])
def pin_snapshot(request):
    """"Link for a ticket": keep the snapshot the page showed and go back to the page with
    `?snapshot=<id>` (a link that shows the same numbers later), or say why it cannot."""
    form = PinForm(request.POST)
    if not form.is_valid():
        return bad_request(request, first_error(form))
    page = form.cleaned_data["next"] or reverse("errors:global")
    if not url_has_allowed_host_and_scheme(page, allowed_hosts=None) or not page.startswith("/"):
        return bad_request(request, "next must be a page of this site.")
    try:
        snapshot = pinning.pin_snapshot(form.cleaned_data["snapshot"])
    except pinning.PinRefused as exc:
        if wants_json(request):
            return json_problem(str(exc), 409)
        messages.error(request, str(exc))
        return redirect(page)
    path, _, query_string = page.partition("?")
    query = QueryDict(query_string, mutable=True)
    query["snapshot"] = str(snapshot.pk)
    link = f"{path}?{query.urlencode()}"
    if wants_json(request):
        return JsonResponse({"snapshot": snapshot.pk, "link": request.build_absolute_uri(link)})
    messages.success(
        request, f"This page's link now shows these numbers for {PINNED_DAYS} days: copy it into the ticket."
    )
    return redirect(link)


@data_page(
    summary="Top log messages of the current snapshot",
    form=TopMessagesForm,
    data=data_schemas.TOP_MESSAGES,
    snapshot=False,
)
def top_messages(request):
    """The current snapshot's log-sample messages, most frequent first."""
    form = TopMessagesForm(request.GET)
    if not form.is_valid():
        return bad_request(request, first_error(form))
    query = form.cleaned_data
    view = top_messages_view(page=query["page"], sort=query["sort"])
    query_base = urlencode({"sort": query["sort"]}) + "&" if query["sort"] != "samples" else ""
    return render_page(request, "errors/messages.html", {"view": view, "query_base": query_base}, data=view)


@data_page(
    summary="The workflows whose log samples say one message",
    form=MessageWorkflowsForm,
    data=data_schemas.MESSAGE_WORKFLOWS,
    snapshot=False,
)
def message_workflows(request, message_key):
    """The workflows whose log samples say one message (a key from the top-messages page)."""
    form = MessageWorkflowsForm(request.GET)
    if not form.is_valid():
        return bad_request(request, first_error(form))
    if not re.fullmatch(r"[0-9a-f]{16}", message_key):
        return not_found(
            request, "A message is named by 16 hexadecimal characters, as the top-messages page links it."
        )
    view = message_workflows_view(message_key, page=form.cleaned_data["page"])
    if view is None:
        return not_found(request, "No workflow of the current snapshot has this message (any more).")
    return render_page(request, "errors/message.html", {"view": view, "query_base": ""}, data=view)


REFRESH_TASK = "errors.tasks.refresh_errors"


@verified_required
@require_http_methods(["GET", "POST"])
def reset_cache(request):
    """POST enqueues a refresh of current errors and source caches; GET shows job states."""
    if request.method == "POST":
        job_id = str(uuid.uuid4())
        # The worker must not start before this request's transaction is committed.
        try:
            send_after_commit(lambda: tasks.refresh_errors.apply_async(task_id=job_id))
        except QueueDown as exc:
            return problem_page(request, "Not queued", str(exc), 503)
        return redirect(f"{reverse('errors:resetcache')}?job={job_id}")
    job = None
    job_id = request.GET.get("job", "")
    try:
        job = AsyncResult(str(uuid.UUID(job_id))) if job_id else None
    except ValueError:
        return bad_request(request, "job must be a job id as given after a reset.")
    recent = TaskResult.objects.filter(task_name=REFRESH_TASK).order_by("-date_created")[:10]
    return render(request, "errors/reset_cache.html", {"job": job, "recent": recent})

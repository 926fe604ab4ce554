"""Pages about errors: thin views over errors.selectors (reads) and the services. A GET
reads the database and cache only: log samples are fetched in the background."""

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
from .forms import ExplainErrorForm, GlobalViewForm, ListPageForm, PinForm, TrendsForm
from .models import Procedure
from .selectors.explanations import snippets
from .selectors.global_view import PIEVAR_LABELS, global_view
from .selectors.list_page import list_page as list_page_rows
from .selectors.overview import overview
from .selectors.sites import errors_per_site
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
    view = global_view(
        query["pievar"],
        page=query["page"] or 1,
        campaign=query["campaign"],
        prep_id=query["prep_id"],
        site=query["sitename"],
        sort=query["sort"],
        compact=query["compact"],
        snapshot=snapshot,
    )
    # Pager links keep every choice but the page; defaults stay out of the URL.
    kept = {
        "pievar": query["pievar"],
        "campaign": query["campaign"],
        "prep_id": query["prep_id"],
        "sitename": query["sitename"],
    }
    if query["sort"] != "errors":
        kept["sort"] = query["sort"]
    if query["compact"]:
        kept["compact"] = "1"
    return render_page(
        request,
        "errors/global.html",
        {
            "view": view,
            "query": query,
            "pievars": PIEVAR_LABELS,
            "query_base": urlencode(kept) + "&",
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
    listing = list_page_rows(
        errorcode=query["errorcode"],
        sitename=query["sitename"],
        workflow=workflow,
        step=step,
        sort=query["sort"],
        snapshot=snapshot,
    )
    # The sort links keep the rest of the query as given.
    sort_base = urlencode([(key, value) for key, value in request.GET.items() if key != "sort"])
    return render_page(
        request,
        "errors/list.html",
        {
            "listing": listing,
            "query": query,
            "workflow": workflow,
            "step": step,
            "sort_base": sort_base + "&" if sort_base else "",
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
    rows = errors_per_site(answer.value or {}, snapshot)
    return render_page(
        request,
        "errors/sites.html",
        {"rows": rows, "status_answer": answer, "snapshot": snapshot},
        data={"snapshot": snapshot, "site_status_problem": answer.problem, "sites": rows},
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

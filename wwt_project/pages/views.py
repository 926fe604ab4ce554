"""The workflow page: it composes errors, actions and clustering, so it lives in the top layer.

A GET reads only the database and the cache: what ReqMgr2, the ACDC server, WMStats and the
site-status source said is stored by the refresh job (or by "refresh this workflow now",
which enqueues one task and returns at once)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.decorators import verified_required
from actions.panels import Prefill, workflow_panel
from clustering import placement, prediction
from errors import data_schemas, log_samples
from errors.selectors import explanations as error_selectors
from errors.selectors.messages import workflow_messages
from errors.selectors.snapshot import snapshot_key
from errors.selectors.workflow import site_verdict
from errors.views import snapshot_or_problem
from workflows import selectors as workflow_selectors
from workflows.forms import WorkflowForm
from workflows.models import Workflow
from wwt_project.http import bad_request, first_error, not_found
from wwt_project.page_data import render_page
from wwt_project.page_schema import data_page

from . import selectors, services


def _workflow_or_problem(request, data):
    """(workflow, None) or (None, the 400/404 page)."""
    form = WorkflowForm(data)
    if not form.is_valid():
        return None, bad_request(request, first_error(form))
    name = form.cleaned_data["workflow"]
    workflow = Workflow.objects.filter(name=name).first()
    if workflow is None:
        return None, not_found(request, f"No workflow is named {name}.")
    return workflow, None


def workflow_url(name: str) -> str:
    return f"{reverse('pages:workflow')}?{urlencode({'workflow': name})}"


@data_page(summary="Workflow page (its errors)", form=WorkflowForm, data=data_schemas.WORKFLOW)
def see_workflow(request):
    workflow, problem = _workflow_or_problem(request, request.GET)
    if problem:
        return problem
    snapshot, problem = snapshot_or_problem(request)
    if problem:
        return problem
    # The similar panel's ranking is cached per snapshot (already resolved); the suggestion is
    # the one the worker stored for the current snapshot.
    snapshot_name = snapshot_key(snapshot)
    suggestion = prediction.suggestion_for_page(workflow, snapshot)
    prefill = None
    if request.GET.get("prefill") == "suggestion" and suggestion.suggestion:
        prefill = Prefill(
            action=suggestion.suggestion.action,
            parameters=suggestion.suggestion.prefill_parameters(),
            reasons=[],
            note=suggestion.suggestion.form_note(),
        )
    statuses = workflow_selectors.site_status_answer()
    # The tables and their rendered section are cached together (the template's {% cache %}).
    errors_key = selectors.error_tables_key(workflow, snapshot_name, statuses)
    tables = selectors.error_tables(workflow, statuses, snapshot, errors_key)
    codes = sorted({row["exit_code"] for table in tables for row in table["rows"]})
    procedures = error_selectors.procedures_for(codes)
    parameters = error_selectors.procedure_parameters(workflow, procedures)
    request_answer = workflow_selectors.request_parameters(workflow)
    whitelist = []
    if request_answer.ok:
        whitelist = [
            {"name": s, "status": (statuses.value or {}).get(s, "")}
            for s in request_answer.value["site_whitelist"]
        ]
    context = {
        "workflow": workflow,
        "tables": tables,
        "errors_key": errors_key,
        "errors_seconds": selectors.error_tables_seconds(),
        "total": sum(table["total"] for table in tables),
        "site_verdict": site_verdict(tables),
        "procedures": [
            {"exit_code": code, "procedure": procedures.get(code), "parameters": parameters.get(code, [])}
            for code in codes
        ],
        "log_samples": log_samples.log_samples_state(workflow),
        "message_groups": workflow_messages(workflow),
        "request_answer": request_answer,
        "recovery_answer": workflow_selectors.recovery_sites_answer(workflow),
        "refresh_queued": services.refresh_queued(workflow),
        "whitelist": whitelist,
        "site_status": statuses,
        "related": selectors.related_workflows(workflow, snapshot, snapshot_name),
        "links": workflow_selectors.outside_links(workflow),
        "similar_panel": placement.similar_panel(
            workflow, snapshot_name, show_all=request.GET.get("all_similar") == "1"
        ),
        "action_panel": workflow_panel(workflow, request.user, prefill=prefill),
        "suggestion": suggestion,
        "snapshot": snapshot,
    }
    if snapshot.id is not None and not snapshot.pinned:
        # The current snapshot is the last refresh the layout names: no second query for it.
        context["last_refresh"] = snapshot
    # The errors as data (the panels from outside sources have their own pages and the API).
    data = {
        "snapshot": snapshot,
        "workflow": {
            "name": workflow.name,
            "prep_id": workflow.prep_id,
            "campaign": workflow.campaign,
            "is_acdc": workflow.is_acdc,
        },
        "total": context["total"],
        "tables": tables,
        "site_status_problem": statuses.problem,
        "related": context["related"],
    }
    return render_page(request, "pages/workflow.html", context, data=data)


@verified_required
@require_POST
def refresh_workflow(request):
    """Enqueue one task that asks ReqMgr2, the ACDC server and WMStats about the workflow,
    and go back to its page at once (which says "fetching…" until the task is done)."""
    workflow, problem = _workflow_or_problem(request, request.POST)
    if problem:
        return problem
    not_queued = services.queue_workflow_refresh(workflow)
    if not_queued:
        messages.error(request, f"Not refreshed: {not_queued}")
    else:
        messages.success(
            request,
            "Asking ReqMgr2, the ACDC server and WMStats again: the page shows what they say once in.",
        )
    return redirect(workflow_url(workflow.name))

"""Pages: submitting an action, the operators' actions list, the API docs, an old path."""

import functools
from pathlib import Path
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import verified_required
from workflows.models import Workflow
from wwt_project.page_data import render_page
from wwt_project.page_schema import data_page

from . import exports, panels, post_parsing, selectors, services
from .display import readable_parameters
from .models import ACTED_OF_STATUS, ActionKind
from .validation import SITE_NAME, ActionRejected


def _workflow_page(name: str) -> str:
    return reverse("pages:workflow") + "?" + urlencode({"workflow": name})


@verified_required
@require_http_methods(["GET", "POST"])
def submit_action(request):
    """GET shows the form alone; POST stores the action and returns to the workflow page, or
    re-renders here (400) with the errors and what the operator typed."""
    name = request.POST.get("workflow") or request.GET.get("workflow")
    if not name:
        return HttpResponseBadRequest("Say which workflow: /submitaction?workflow=<name>")
    if "\x00" in name:  # a posted name (the query string is checked by a middleware)
        return HttpResponseBadRequest("A workflow name cannot hold a NUL character.")
    workflow = get_object_or_404(Workflow, name=name)
    if request.method == "GET":
        context = panels.form_context(workflow, prefill=panels.opening_prefill(workflow))
        return render(request, "actions/submit.html", context)
    submission = post_parsing.submission_from_post(request.POST, workflow)
    try:
        stored = services.submit_action(user=request.user, **submission)
    except ActionRejected as exc:
        context = panels.form_context(workflow, post=request.POST, errors=exc.errors)
        return render(request, "actions/submit.html", context, status=400)
    others = len(stored) - 1
    messages.success(
        request,
        f"{ActionKind(submission['action']).label} submitted for {workflow.name}"
        + (f" and {others} similar workflow(s)" if others else "")
        + "; Unified picks it up within minutes."
        + (" The requester is told by mail." if submission["tell_requester"] else ""),
    )
    return HttpResponseRedirect(_workflow_page(workflow.name))


@verified_required
@require_http_methods(["GET", "POST"])
def withdraw_action(request):
    """GET shows the withdraw form alone; POST withdraws the workflow's pending action and returns
    to the workflow page, or re-renders here with the reason it was refused (400 no reason, 404
    no workflow or nothing pending, 409 already reported)."""
    name = request.POST.get("workflow") or request.GET.get("workflow")
    if not name:
        return HttpResponseBadRequest("Say which workflow: /withdrawaction?workflow=<name>")
    if "\x00" in name:
        return HttpResponseBadRequest("A workflow name cannot hold a NUL character.")
    workflow = get_object_or_404(Workflow, name=name)
    context = {"workflow": workflow, "last_action": selectors.last_action(workflow), "reason": ""}
    if request.method == "GET":
        return render(request, "actions/withdraw.html", context)
    reason = request.POST.get("reason", "")
    try:
        result = services.withdraw_actions([workflow.name], user=request.user, reason=reason)
    except ActionRejected as exc:
        return render(
            request, "actions/withdraw.html", {**context, "error_messages": exc.messages}, status=400
        )
    if refusal := result.refusal(workflow.name):
        status, message = refusal
        return render(
            request,
            "actions/withdraw.html",
            {**context, "reason": reason, "error_messages": [message]},
            status=status,
        )
    messages.success(
        request, f"The pending action of {workflow.name} is withdrawn: Unified is no longer served it."
    )
    return HttpResponseRedirect(_workflow_page(workflow.name))


def _filters_from(query) -> tuple[selectors.ActionFilters, list[str]]:
    problems = []
    status = query.get("status", "pending")
    if status not in ACTED_OF_STATUS:
        problems.append(f"status must be pending, reported or all, got {status!r}")
        status = "pending"
    action = query.get("action", "")
    if action and action not in ActionKind.values:
        problems.append(f"unknown action {action!r}")
        action = ""
    try:
        days = int(query.get("days") or 0)
    except ValueError:
        problems.append(
            f"days must be a whole number of days from 0 to {selectors.MAX_DAYS}, got {query.get('days')!r}"
        )
        days = 0
    if problem := selectors.days_problem(days):
        problems.append(problem)
        days = 0
    site = query.get("site", "").strip()
    if site and not SITE_NAME.match(site):
        problems.append(f"site must be a CMS site name like T2_CH_CERN, got {site!r}")
        site = ""
    filters = selectors.ActionFilters(
        status=status,
        action=action,
        user=query.get("user", ""),
        days=days,
        campaign=query.get("campaign", "").strip(),
        site=site,
    )
    return filters, problems


ACTIONS_PAGE_SCHEMA = {
    "type": "object",
    "properties": {
        "filters": {"type": "object"},
        "problems": {"type": "array", "items": {"type": "string"}},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "page": {"type": "object"},
        "actions": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["filters", "problems", "counts", "actions"],
}


@data_page(
    summary="Submitted actions (verified operators)",
    data=ACTIONS_PAGE_SCHEMA,
    snapshot=False,
    description="Filters: status (pending, reported, all), action, user, days, page.",
)
@verified_required
@require_GET
def actions_page(request):
    """Submitted actions with filters; those pending for more than a day are flagged."""
    filters, problems = _filters_from(request.GET)
    now = timezone.now()
    export = request.GET.get("export", "")
    if export and export not in exports.FORMATS:
        problems.append(f"export must be csv or json, got {export!r}")
    elif export and not problems:
        rows = selectors.export_rows(filters, now=now)
        return exports.csv_response(rows) if export == "csv" else exports.json_response(rows, filters)
    page = Paginator(selectors.actions_for_page(filters, now=now), 100).get_page(request.GET.get("page"))
    rows = [
        {
            "action": a,
            "late": selectors.is_pending_too_long(a, now),
            "parameters": readable_parameters(a.action, a.parameters),
        }
        for a in page
    ]
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    counts = selectors.action_counts(now=now)
    data = {
        "filters": filters,
        "problems": problems,
        "counts": counts,
        "page": {"number": page.number, "num_pages": page.paginator.num_pages},
        "actions": [
            {
                "workflow": row["action"].workflow.name,
                "action": row["action"].action,
                "parameters": row["action"].parameters,
                "reasons": row["action"].reasons,
                "acdcs": row["action"].acdcs,
                "submitter": row["action"].submitter,
                "submitted_at": row["action"].submitted_at,
                "reported_at": row["action"].reported_at,
                "late": row["late"],
            }
            for row in rows
        ],
    }
    return render_page(
        request,
        "actions/actions.html",
        {
            "filters": filters,
            "problems": problems,
            "page": page,
            "rows": rows,
            "counts": counts,
            "action_choices": ActionKind.choices,
            "users": selectors.action_users(),
            "campaigns": selectors.action_campaigns(),
            "query": query.urlencode(),
        },
        data=data,
        status=400 if problems else 200,
    )


@require_GET
def seeworkflow2(request):
    """Unified's report pages link to the original's second workflow page: send them to ours."""
    name = request.GET.get("workflow", "")
    if not name:
        return HttpResponseBadRequest("Say which workflow: /seeworkflow2?workflow=<name>")
    return HttpResponseRedirect(_workflow_page(name))


@require_GET
def api_docs(request):
    return render(request, "actions/api_docs.html", {"schema_url": reverse("actions:api-schema")})


def _redoc_bundle() -> Path:
    import drf_spectacular_sidecar

    return Path(drf_spectacular_sidecar.__file__).parent / "static/drf_spectacular_sidecar/redoc/bundles"


# Redoc's side menu shows Redocly's logo from their CDN: the docs must load nothing from outside.
_OUTSIDE_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


@functools.cache
def _redoc_script(logo_url: str) -> bytes:
    """The Redoc bundle with its outside logo replaced by ours (read once per process)."""
    return (_redoc_bundle() / "redoc.standalone.js").read_bytes().replace(_OUTSIDE_LOGO, logo_url.encode())


@require_GET
def api_docs_script(request):
    """Redoc from the drf-spectacular-sidecar package, so the docs need no CDN."""
    try:
        script = _redoc_script(static("img/favicon.svg"))
    except (ImportError, OSError) as exc:
        raise Http404("Redoc bundle missing") from exc
    response = HttpResponse(script, content_type="text/javascript")
    response["Cache-Control"] = "public, max-age=86400"
    return response

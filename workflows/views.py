"""The workflow page and the log search: thin views over workflows.selectors."""

from urllib.parse import urlencode

from django.shortcuts import render

from actions.panels import workflow_panel
from clustering import placement, prediction
from errors import log_samples as error_log_samples
from errors.selectors import explanations as error_selectors
from wwt_project.http import bad_request, first_error, not_found

from . import selectors, sources
from .forms import LogSearchForm, WorkflowForm
from .models import Workflow


def see_workflow(request):
    form = WorkflowForm(request.GET)
    if not form.is_valid():
        return bad_request(request, first_error(form))
    name = form.cleaned_data["workflow"]
    workflow = Workflow.objects.filter(name=name).first()
    if workflow is None:
        return not_found(request, f"No workflow is named {name}.")
    explanation_problem = error_log_samples.log_samples_state(workflow).problem
    statuses = selectors.site_status_answer()
    tables = selectors.step_tables(workflow, statuses.value or {})
    codes = sorted({row["exit_code"] for table in tables for row in table["rows"]})
    procedures = error_selectors.procedures_for(codes)
    parameters = error_selectors.procedure_parameters(workflow, procedures)
    request_answer = selectors.request_parameters(workflow)
    whitelist = []
    if request_answer.ok:
        whitelist = [
            {"name": s, "status": (statuses.value or {}).get(s, "")}
            for s in request_answer.value["site_whitelist"]
        ]
    context = {
        "workflow": workflow,
        "tables": tables,
        "total": sum(table["total"] for table in tables),
        "procedures": [
            {"exit_code": code, "procedure": procedures.get(code), "parameters": parameters.get(code, [])}
            for code in codes
        ],
        "explanation_problem": explanation_problem,
        "request_answer": request_answer,
        "whitelist": whitelist,
        "site_status_problem": statuses.problem,
        "related": selectors.related_workflows(workflow),
        "links": selectors.outside_links(workflow),
        "similar_panel": placement.similar_panel(workflow),
        "action_panel": workflow_panel(workflow, request.user),
        "suggestion": prediction.suggestion_for_page(workflow),
    }
    return render(request, "workflows/workflow.html", context)


def show_log(request):
    form = LogSearchForm(request.GET)
    if not form.is_valid():
        return bad_request(request, first_error(form))
    query = form.cleaned_data
    context = {"query": query, "entries": [], "total": 0, "problem": "", "configured": True}
    if not sources.is_configured("logs"):
        context["configured"] = False
        context["problem"] = (
            "sources.logs is not configured in config.yml, so there is no log server to search."
        )
    else:
        try:
            total, entries = sources.search_logs(
                query["search"],
                module=query["module"],
                limit=query["limit"],
                offset=(query["page"] - 1) * query["limit"],
            )
            context.update(total=total, entries=entries)
        except sources.SourceError as exc:
            context["problem"] = str(exc)
    pages = max(1, -(-context["total"] // query["limit"]))
    base = {"search": query["search"], "module": query["module"], "limit": query["limit"]}
    context.update(
        pages=pages,
        previous_url=f"?{urlencode({**base, 'page': query['page'] - 1})}" if query["page"] > 1 else None,
        next_url=f"?{urlencode({**base, 'page': query['page'] + 1})}" if query["page"] < pages else None,
    )
    return render(request, "workflows/logs.html", context)

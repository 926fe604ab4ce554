"""The log search: a thin view over the log server (workflows.sources)."""

from urllib.parse import urlencode

from django.shortcuts import render

from wwt_project.http import bad_request, first_error

from . import sources
from .forms import LogSearchForm


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

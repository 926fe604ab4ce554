"""Reads for the error pages: the global view, the list page, the site and trend
pages, explanations and procedures. Every function runs a fixed number of queries,
whatever the size of the snapshot; heavy sums run in the database."""

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Count, F, Max, Q, Sum, Value, Window
from django.db.models.functions import Coalesce, NullIf, RowNumber, TruncDate
from django.utils import timezone
from django.utils.safestring import mark_safe

from workflows.exit_codes import exit_code_label
from workflows.models import Step, Workflow, short_task_name

from . import charts
from .models import ErrorCount, ErrorHistory, ErrorImport, Explanation, Procedure

# pievar -> the ErrorCount field its pies split by.
PIEVARS = {"errorcode": "exit_code", "sitename": "site", "stepname": "step"}
PIEVAR_LABELS = {"errorcode": "exit code", "sitename": "site", "stepname": "step"}
# Step pies name their steps in the tooltip: fewer slices keep that page light.
STEP_SLICES = 3
GROUPS_PER_PAGE = 10  # prep IDs per page: keeps a page near 200 kB whatever the data size


class ErrorsQueryError(Exception):
    """A request the error pages cannot answer (bad combination of parameters)."""


def last_refresh() -> ErrorImport | None:
    """The latest import of current errors, or None before the first one."""
    return ErrorImport.objects.filter(kind=ErrorImport.Kind.CURRENT).order_by("-finished_at").first()


def overview() -> dict:
    """Counts at a glance for the home page, in two queries."""
    totals = ErrorCount.objects.aggregate(
        errors=Sum("count"),
        cells=Count("id"),
        sites=Count("site", distinct=True),
        exit_codes=Count("exit_code", distinct=True),
        steps=Count("step", distinct=True),
    )
    totals["workflows"] = Workflow.objects.filter(steps__errors__isnull=False).distinct().count()
    totals["errors"] = totals["errors"] or 0
    return totals


# Global view -----------------------------------------------------------------------------


@dataclass
class PieRow:
    """One row of a pie table: a workflow (kind "workflow") or one of its steps."""

    kind: str
    label: str
    total: int
    cells_html: str
    workflow: str = ""
    is_acdc: bool = False


@dataclass
class PrepGroup:
    prep_id: str
    campaign: str
    total: int
    workflows: int = 0
    rows: list[PieRow] = field(default_factory=list)


def _row_cells(splits: dict, columns: list, href_for, title_for=str) -> str:
    return "".join(
        charts.pie_cell(title_for(column), splits[column], href_for(column))
        if column in splits
        else "<td></td>"
        for column in columns
    )


def _filtered(campaign: str = "", prep_id: str = "", site: str = ""):
    queryset = ErrorCount.objects.all()
    if site:
        queryset = queryset.filter(site=site)
    if campaign:
        queryset = queryset.filter(step__workflow__campaign=campaign)
    if prep_id:
        queryset = queryset.filter(Q(step__workflow__prep_id=prep_id) | Q(step__workflow__name=prep_id))
    return queryset


def global_view(
    pievar: str,
    *,
    page: int = 1,
    campaign: str = "",
    prep_id: str = "",
    site: str = "",
    per_page: int = GROUPS_PER_PAGE,
) -> dict:
    """The table of pies for `pievar` (one of PIEVARS), optionally narrowed to a campaign,
    a prep ID or a site. errorcode/sitename: rows are prep IDs → workflows → steps, paginated
    by prep ID; stepname: rows are exit codes, columns sites. `totals_row` gives the column
    totals in column order. Four queries at most."""
    if pievar not in PIEVARS:
        raise ErrorsQueryError(f"pievar must be one of {', '.join(PIEVARS)}, not {pievar!r}")
    # The snapshot changes only when an import replaces it, so a page is built once per
    # snapshot (the key names the import) and served from Django's cache afterwards.
    snapshot = _snapshot_key()
    key = None
    if snapshot:
        key = f"wwt:globalview:{snapshot}:{_digest(pievar, page, per_page, campaign, prep_id, site)}"
        view = cache.get(key)
        if view is not None:
            return view
    if pievar == "stepname":
        view = _code_by_site_view(campaign, prep_id, site)
    else:
        view = _grouped_view(pievar, page, campaign, prep_id, site, per_page, snapshot)
    view["totals_row"] = [(column, view["column_totals"][column]) for column in view["columns"]]
    if key:
        cache.set(key, view, settings.WWT["cache"]["errors_minutes"] * 60)
    return view


_GROUPING_GENERATION_KEY = "wwt:globalview:grouping"


def forget_grouped_pages() -> None:
    """Retire the pages built for the current snapshot: the workflows' campaigns or prep IDs
    changed (ReqMgr2 said better than their names), so the same snapshot groups differently."""
    try:
        cache.incr(_GROUPING_GENERATION_KEY)
    except ValueError:  # not set yet
        cache.set(_GROUPING_GENERATION_KEY, 1, None)


def _snapshot_key() -> str:
    """Names the current snapshot (its import and grouping), or "" when there is none to name."""
    refresh = last_refresh()
    if not refresh:
        return ""
    return f"{refresh.pk}:{refresh.finished_at.timestamp()}:{cache.get(_GROUPING_GENERATION_KEY) or 0}"


def _digest(*parts) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class PageInfo:
    """What the pager shows (a Paginator page without the whole list behind it)."""

    number: int
    num_pages: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def _group_index(
    column_field: str, campaign: str, prep_id: str, site: str, snapshot: str
) -> tuple[dict, list[dict]]:
    """Column totals and the prep-ID groups [{campaign, group, total}] in page order: the
    two queries over the whole snapshot, cached per snapshot so paging costs neither."""
    digest = _digest(column_field, campaign, prep_id, site)
    key = f"wwt:groupindex:{snapshot}:{digest}" if snapshot else None
    index = cache.get(key) if key else None
    if index is not None:
        return index
    base = _filtered(campaign, prep_id, site)
    column_totals = dict(base.values_list(column_field).annotate(total=Sum("count")).order_by(column_field))
    # A workflow whose name shows no prep ID is its own group.
    group_key = Coalesce(NullIf(F("step__workflow__prep_id"), Value("")), F("step__workflow__name"))
    groups = list(
        base.annotate(group=group_key, campaign=F("step__workflow__campaign"))
        .values("campaign", "group")
        .annotate(total=Sum("count"))
        .order_by("campaign", "-total", "group")
    )
    if key:
        cache.set(key, (column_totals, groups), settings.WWT["cache"]["errors_minutes"] * 60)
    return column_totals, groups


def _grouped_view(
    pievar: str, page: int, campaign: str, prep_id: str, site: str, per_page: int, snapshot: str
) -> dict:
    column_field = "site" if pievar == "errorcode" else "exit_code"
    split_field = PIEVARS[pievar]
    column_param = "sitename" if column_field == "site" else "errorcode"
    # Exit codes are named as people read them (-1 is "NotReported") in titles, slices, links.
    column_title = exit_code_label if column_field == "exit_code" else str
    split_label = exit_code_label if split_field == "exit_code" else (lambda split: split)
    base = _filtered(campaign, prep_id, site)
    column_totals, groups = _group_index(column_field, campaign, prep_id, site, snapshot)
    columns = list(column_totals)
    campaign_totals: dict[str, int] = defaultdict(int)
    for group in groups:
        campaign_totals[group["campaign"]] += group["total"]
    paginator = Paginator(groups, per_page)
    page_obj = paginator.get_page(page)
    shown = {
        group["group"]: PrepGroup(group["group"], group["campaign"], group["total"]) for group in page_obj
    }

    cells = (
        base.filter(Q(step__workflow__prep_id__in=list(shown)) | Q(step__workflow__name__in=list(shown)))
        .values_list(
            "step__name",
            "step__workflow__name",
            "step__workflow__prep_id",
            "step__workflow__is_acdc",
            column_field,
            split_field,
            "count",
        )
        .order_by()
    )
    # workflow -> {step -> {column -> {slice -> count}}}
    per_step: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(dict)))
    workflow_info: dict[str, tuple[str, bool]] = {}
    for step, workflow, prep, is_acdc, column, split, count in cells:
        per_step[workflow][step][column][split_label(split)] = count
        workflow_info[workflow] = (prep or workflow, is_acdc)

    links: dict = {}

    def link_for(workflow: str, column) -> str:
        if (workflow, column) not in links:
            links[(workflow, column)] = charts.link(
                "/listpage", workflow=workflow, **{column_param: column_title(column)}
            )
        return links[(workflow, column)]

    for workflow in sorted(workflow_info, key=lambda name: (workflow_info[name][1], name)):
        group = shown.get(workflow_info[workflow][0])
        if group is None:  # a workflow named like another group's prep ID
            continue
        group.workflows += 1
        steps = per_step[workflow]
        merged: dict = defaultdict(lambda: defaultdict(int))
        for splits in steps.values():
            for column, split in splits.items():
                for label, count in split.items():
                    merged[column][label] += count

        def workflow_link(column, workflow=workflow):
            return link_for(workflow, column)

        group.rows.append(
            PieRow(
                kind="workflow",
                label=workflow,
                workflow=workflow,
                is_acdc=workflow_info[workflow][1],
                total=sum(sum(split.values()) for split in merged.values()),
                cells_html=mark_safe(_row_cells(merged, columns, workflow_link, column_title)),  # noqa: S308
            )
        )
        for step in sorted(steps):
            label = short_task_name(workflow, step)

            # A step's pie shows that step only: so does the list page it opens.
            def step_link(column, step=step):
                return charts.link("/listpage", workflowstep=step, **{column_param: column_title(column)})

            group.rows.append(
                PieRow(
                    kind="step",
                    label=label,
                    workflow=workflow,
                    total=sum(sum(split.values()) for split in steps[step].values()),
                    cells_html=mark_safe(_row_cells(steps[step], columns, step_link, column_title)),  # noqa: S308
                )
            )

    # Campaign headings in page order, each with its total over all pages.
    sections: list[dict] = []
    for group in shown.values():
        if not sections or sections[-1]["campaign"] != group.campaign:
            sections.append(
                {"campaign": group.campaign, "total": campaign_totals[group.campaign], "groups": []}
            )
        sections[-1]["groups"].append(group)
    return {
        "layout": "grouped",
        "pievar": pievar,
        "split_label": PIEVAR_LABELS[pievar],
        "column_label": "site" if column_field == "site" else "exit code",
        "columns": columns,
        "column_totals": column_totals,
        "sections": sections,
        "page": PageInfo(page_obj.number, paginator.num_pages),
        "campaigns": len(campaign_totals),
        "groups": paginator.count,
        "total": sum(column_totals.values()),
    }


def _brief_step(step_name: str) -> str:
    """`workflow…/task` for tooltips: full step paths would make the page heavy."""
    parts = step_name.split("/")
    workflow = parts[1] if len(parts) > 2 else step_name
    workflow = workflow if len(workflow) <= 40 else workflow[:39] + "…"
    return f"{workflow}/…/{parts[-1]}" if len(parts) > 3 else f"{workflow}/{parts[-1]}"


def _code_by_site_view(campaign: str, prep_id: str, site: str) -> dict:
    """Rows exit codes, columns sites, each pie split by step (biggest steps only)."""
    base = _filtered(campaign, prep_id, site)
    totals = list(
        base.values_list("exit_code", "site").annotate(total=Sum("count"), steps=Count("id")).order_by()
    )
    ranked = (
        base.annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("exit_code"), F("site")],
                order_by=[F("count").desc(), F("step_id").asc()],
            )
        )
        .filter(rank__lte=STEP_SLICES)
        .values_list("exit_code", "site", "step_id", "count")
    )
    ranked = list(ranked)
    # Names apart: carrying long step names through the window's sort doubles its cost.
    # At most codes × sites × STEP_SLICES ids, whatever the number of workflows.
    names = dict(
        Step.objects.filter(id__in={step_id for _, _, step_id, _ in ranked}).values_list("id", "name")
    )
    top: dict = defaultdict(dict)
    for code, site, step_id, count in ranked:
        label = _brief_step(names[step_id])
        top[(code, site)][label] = top[(code, site)].get(label, 0) + count
    codes = sorted({code for code, _, _, _ in totals})
    sites = sorted({site for _, site, _, _ in totals})
    by_cell = {(code, site): (total, steps) for code, site, total, steps in totals}
    rows = []
    for code in codes:
        cells = []
        row_total = 0
        for site in sites:
            if (code, site) not in by_cell:
                cells.append("<td></td>")
                continue
            total, n_steps = by_cell[(code, site)]
            row_total += total
            # The window query brought the biggest steps of the cell; the rest is one slice.
            slices = sorted(top[(code, site)].items(), key=lambda item: (-item[1], item[0]))
            if n_steps > STEP_SLICES:
                slices = slices[: STEP_SLICES - 1]
            rest = total - sum(count for _, count in slices)
            if rest:
                slices.append((f"{n_steps - len(slices)} other steps", rest))
            svg = charts.pie_svg(
                f"exit code {exit_code_label(code)} at {site}", slices, total, more=bool(rest)
            )
            href = charts.link("/listpage", errorcode=exit_code_label(code), sitename=site)
            cells.append(f'<td class="pc"><a href="{href}">{svg}</a></td>')
        cells_html = mark_safe("".join(cells))  # noqa: S308 -- pie_svg escapes
        rows.append(PieRow(kind="code", label=exit_code_label(code), total=row_total, cells_html=cells_html))
    column_totals = defaultdict(int)
    for (_, site), (total, _) in by_cell.items():
        column_totals[site] += total
    return {
        "layout": "matrix",
        "pievar": "stepname",
        "split_label": "step",
        "column_label": "site",
        "columns": sites,
        "column_totals": dict(column_totals),
        "rows": rows,
        "total": sum(column_totals.values()),
    }


# List page -------------------------------------------------------------------------------


def list_page(
    *, errorcode: int | None, sitename: str, workflow: Workflow | None, step: Step | None = None
) -> dict:
    """Given two of exit code, site and workflow, the values of the third with their
    error counts, biggest first. A `step` (of `workflow`) narrows the workflow to that
    step. One query."""
    queryset = ErrorCount.objects.all()
    if errorcode is not None:
        queryset = queryset.filter(exit_code=errorcode)
    if sitename:
        queryset = queryset.filter(site=sitename)
    if step is not None:
        queryset = queryset.filter(step=step)
    elif workflow is not None:
        queryset = queryset.filter(step__workflow=workflow)
    if workflow is None:
        listed, label = "step__workflow__name", "workflow"
    elif sitename:
        listed, label = "exit_code", "exit code"
    else:
        listed, label = "site", "site"
    rows = list(
        queryset.values_list(listed)
        .annotate(total=Sum("count"), steps=Count("step", distinct=True))
        .order_by("-total", listed)
    )
    return {
        "listed": label,
        "rows": [{"value": value, "total": total, "steps": steps} for value, total, steps in rows],
        "total": sum(total for _, total, _ in rows),
    }


# Sites -----------------------------------------------------------------------------------


def _site_aggregates() -> tuple[list, dict]:
    """Per site (errors, workflows, steps) and per site {exit code: errors}: two queries
    over the whole snapshot, cached per snapshot."""
    snapshot = _snapshot_key()
    key = f"wwt:sites:{snapshot}" if snapshot else None
    found = cache.get(key) if key else None
    if found is not None:
        return found
    totals = list(
        ErrorCount.objects.values_list("site")
        .annotate(
            errors=Sum("count"),
            workflows=Count("step__workflow", distinct=True),
            steps=Count("step", distinct=True),
        )
        .order_by("-errors", "site")
    )
    per_code: dict = defaultdict(dict)
    rows = ErrorCount.objects.values_list("site", "exit_code").annotate(total=Sum("count")).order_by()
    for site, code, count in rows:
        per_code[site][code] = count
    found = (totals, dict(per_code))
    if key:
        cache.set(key, found, settings.WWT["cache"]["errors_minutes"] * 60)
    return found


def sites_with_errors() -> set[str]:
    """Every site the current snapshot or the history names (two DISTINCT queries)."""
    current = ErrorCount.objects.values_list("site", flat=True).distinct().order_by()
    past = ErrorHistory.objects.values_list("site", flat=True).distinct().order_by()
    return set(current) | set(past)


def site_view_link(site: str) -> str:
    """An escaped href: the global view of the errors at `site`, pies split by exit code."""
    return charts.link("/globalerror", pievar="errorcode", sitename=site)


def errors_per_site(statuses: dict[str, str]) -> list[dict]:
    """Per site: errors, workflows, steps, the biggest exit codes and the site status."""
    totals, per_code = _site_aggregates()
    rows = []
    for site, errors, workflows, steps in totals:
        split = {exit_code_label(code): count for code, count in per_code.get(site, {}).items()}
        # The pie opens the global view narrowed to its site (its workflows, split by exit code).
        link = site_view_link(site)
        pie = charts.pie_cell(site, split, link)
        rows.append(
            {
                "site": site,
                "errors": errors,
                "workflows": workflows,
                "steps": steps,
                "status": statuses.get(site, ""),
                "link": mark_safe(link),  # noqa: S308 -- escaped by charts.link
                "top_codes": charts.top_slices(split, 3),
                # pie_cell escapes; only its <td> wrapper is dropped here.
                "pie": mark_safe(pie.removeprefix('<td class="pc">').removesuffix("</td>")),  # noqa: S308
            }
        )
    return rows


# Trends ----------------------------------------------------------------------------------


def error_trends(*, days: int = 14, top: int = 8) -> dict:
    """Errors per day over the last `days` days from the history, per exit code and per site
    (the `top` biggest, the rest summed as "others"). A day counts the last snapshot of
    that day, since each hourly bucket repeats the errors still open. Three queries."""
    since = timezone.now() - timedelta(days=days)
    last_buckets = dict(
        ErrorHistory.objects.filter(bucket__gte=since)
        .annotate(day=TruncDate("bucket"))
        .values_list("day")
        .annotate(last=Max("bucket"))
        .order_by("day")
    )
    day_of_bucket = {bucket: day for day, bucket in last_buckets.items()}
    days_list = sorted(last_buckets)
    result = {"days": days_list}
    for name, field_name in (("by_code", "exit_code"), ("by_site", "site")):
        per_day: dict = defaultdict(lambda: defaultdict(int))
        overall: dict = defaultdict(int)
        rows = (
            ErrorHistory.objects.filter(bucket__in=list(day_of_bucket))
            .values_list("bucket", field_name)
            .annotate(total=Sum("count"))
            .order_by()
        )
        for bucket, key, total in rows:
            per_day[key][day_of_bucket[bucket]] += total
            overall[key] += total
        biggest = sorted(overall, key=lambda key: (-overall[key], str(key)))[:top]
        name_of = exit_code_label if field_name == "exit_code" else str
        series = [(name_of(key), [per_day[key].get(day, 0) for day in days_list]) for key in biggest]
        others = [key for key in overall if key not in biggest]
        rest = None
        if others:
            rest = (
                f"{len(others)} others",
                [sum(per_day[key].get(day, 0) for key in others) for day in days_list],
            )
        result[name] = {
            "series": series,
            "rest": rest,
            "chart": charts.line_chart(days_list, series, rest=rest) if days_list else "",
        }
    return result


# Explanations and procedures ------------------------------------------------------------


@dataclass
class Snippet:
    site: str
    error_type: str
    details: str
    highlighted: str  # escaped HTML with the procedure's matches in <mark>
    parameters: list[str]
    # The sample's own exit code (None: WMStats gave none); it may differ from the cell's.
    sample_exit_code: int | None = None


def highlight(text: str, pattern: re.Pattern | None) -> tuple[str, list[str]]:
    """Escaped `text` with each match of `pattern` in <mark>, and the group(1) values found."""
    if pattern is None:
        return charts.esc(text), []
    parts, found, position = [], [], 0
    for match in pattern.finditer(text):
        if match.end() == match.start():
            continue
        parts.append(charts.esc(text[position : match.start()]))
        parts.append(f"<mark>{charts.esc(match.group(0))}</mark>")
        position = match.end()
        if pattern.groups and match.group(1) is not None and match.group(1) not in found:
            found.append(match.group(1))
    parts.append(charts.esc(text[position:]))
    return "".join(parts), found


def compiled(procedure: Procedure | None) -> re.Pattern | None:
    if procedure is None or not procedure.match_expression:
        return None
    try:
        return re.compile(procedure.match_expression)
    except re.error:  # validated on save; an old bad row must not break pages
        return None


def procedures_for(exit_codes) -> dict[int, Procedure]:
    return {p.exit_code: p for p in Procedure.objects.filter(exit_code__in=list(exit_codes))}


def snippets(step: Step, exit_code: int, procedure: Procedure | None) -> list[Snippet]:
    pattern = compiled(procedure)
    result = []
    for row in Explanation.objects.filter(step=step, exit_code=exit_code).order_by("site", "id"):
        marked, found = highlight(row.details, pattern)
        result.append(
            Snippet(
                row.site,
                row.error_type,
                row.details,
                mark_safe(marked),  # noqa: S308 -- highlight escapes
                found,
                sample_exit_code=row.sample_exit_code,
            )
        )
    return result


def explanations_fresh(workflow: Workflow) -> bool:
    """Whether the stored log samples of `workflow` are younger than the cache period."""
    newest = Explanation.objects.filter(step__workflow=workflow).aggregate(newest=Max("fetched_at"))["newest"]
    period = timedelta(minutes=settings.WWT["cache"]["explanations_minutes"])
    return newest is not None and timezone.now() - newest < period


def procedure_parameters(workflow: Workflow, procedures: dict[int, Procedure]) -> dict[int, list[str]]:
    """Per exit code: the group(1) values its procedure's regex finds in the workflow's
    stored log samples (first 20 distinct). One query."""
    patterns = {code: compiled(p) for code, p in procedures.items()}
    found: dict[int, list[str]] = defaultdict(list)
    rows = Explanation.objects.filter(
        step__workflow=workflow, exit_code__in=[c for c, p in patterns.items() if p]
    )
    for code, details in rows.values_list("exit_code", "details"):
        pattern = patterns[code]
        if not pattern.groups:
            continue
        for match in pattern.finditer(details):
            value = match.group(1)
            if value and value not in found[code] and len(found[code]) < 20:
                found[code].append(value)
    return dict(found)


def main_errors(exclude_workflows=()) -> dict[int, tuple[int, str]]:
    """{workflow id: (exit code, task path)} of each workflow's biggest current (step,
    exit code) cell, in one query; workflows named in `exclude_workflows` are left out."""
    rows = (
        ErrorCount.objects.exclude(step__workflow__name__in=list(exclude_workflows))
        .values("step__workflow_id", "step__workflow__name", "step__name", "exit_code")
        .annotate(total=Sum("count"))
        .order_by("step__workflow_id", "-total", "exit_code", "step__name")
    )
    found: dict[int, tuple[int, str]] = {}
    for row in rows:
        if row["step__workflow_id"] not in found:
            task = row["step__name"][len(row["step__workflow__name"]) + 2 :]
            found[row["step__workflow_id"]] = (row["exit_code"], task)
    return found

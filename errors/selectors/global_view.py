"""The global view: tables of pies over the current snapshot, by exit code, site or step."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Count, F, Q, Sum, Value, Window
from django.db.models.functions import Coalesce, NullIf, RowNumber

from workflows.exit_codes import exit_code_label
from workflows.models import Step, short_task_name

from .pies import Pie, pie_of
from .snapshot import ErrorsQueryError, ShownSnapshot, digest, snapshot_cells, snapshot_key

# pievar -> the ErrorCount field its pies split by.
PIEVARS = {"errorcode": "exit_code", "sitename": "site", "stepname": "step"}
PIEVAR_LABELS = {"errorcode": "exit code", "sitename": "site", "stepname": "step"}
# Step pies name their steps in the tooltip: fewer slices keep that page light.
STEP_SLICES = 3
GROUPS_PER_PAGE = 10  # prep IDs per page: keeps a page near 200 kB whatever the data size
LIST_PAGE = "errors:list"  # where a pie leads: the list page of its cell
# "errors": worst first (campaign, prep ID, workflow, step, exit code by total, descending;
# name breaks ties); "name": alphabetical.
SORTS = ("errors", "name")


@dataclass
class PieRow:
    """One row of a pie table: a workflow (kind "workflow"), one of its steps, or an exit
    code (kind "code"); `cells` holds one pie per column (None where nothing failed)."""

    kind: str
    label: str
    total: int
    cells: list[Pie | None]
    workflow: str = ""
    is_acdc: bool = False


@dataclass
class PrepGroup:
    prep_id: str
    campaign: str
    total: int
    workflows: int = 0
    rows: list[PieRow] = field(default_factory=list)


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


def _row_pies(splits: dict, columns: list, link_for, title_for=str) -> list[Pie | None]:
    return [
        pie_of(title_for(column), splits[column], LIST_PAGE, **link_for(column)) if column in splits else None
        for column in columns
    ]


def _filtered(campaign: str = "", prep_id: str = "", site: str = "", snapshot: ShownSnapshot | None = None):
    queryset = snapshot_cells(snapshot)
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
    sort: str = "errors",
    compact: bool = False,
    snapshot: ShownSnapshot | None = None,
) -> dict:
    """The table of pies for `pievar` (one of PIEVARS), optionally narrowed to a campaign,
    a prep ID or a site. errorcode/sitename: rows are prep IDs → workflows → steps, paginated
    by prep ID; stepname: rows are exit codes, columns sites. `sort` (one of SORTS) orders
    campaigns, prep IDs, workflows, steps and exit-code rows; `compact` asks for one column
    header per page instead of one per prep ID. `totals_row` gives the column totals in
    column order. `snapshot` (default: the current errors) may be one a ticket link pinned.
    Four queries at most, none when the page is cached."""
    if pievar not in PIEVARS:
        raise ErrorsQueryError(f"pievar must be one of {', '.join(PIEVARS)}, not {pievar!r}")
    if sort not in SORTS:
        raise ErrorsQueryError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    snapshot_name = snapshot_key(snapshot)
    key = None
    if snapshot_name:
        choices = digest(pievar, page, per_page, campaign, prep_id, site, sort, compact)
        key = f"wwt:globalview:{snapshot_name}:{choices}"
        view = cache.get(key)
        if view is not None:
            return view
    if pievar == "stepname":
        view = _code_by_site_view(campaign, prep_id, site, sort, snapshot)
    else:
        view = _grouped_view(pievar, page, campaign, prep_id, site, per_page, snapshot_name, sort, snapshot)
    view["sort"] = sort
    view["compact"] = compact
    view["totals_row"] = [(column, view["column_totals"][column]) for column in view["columns"]]
    if key:
        cache.set(key, view, settings.WWT["cache"]["errors_minutes"] * 60)
    return view


def _group_index(
    column_field: str,
    campaign: str,
    prep_id: str,
    site: str,
    snapshot: str,
    sort: str,
    shown: ShownSnapshot | None = None,
) -> tuple[dict, list[dict], dict]:
    """Column totals, the prep-ID groups [{campaign, group, total}] in page order and the
    campaign totals: two queries over the whole snapshot, cached per snapshot and sort so
    paging costs neither."""
    key = (
        f"wwt:groupindex:{snapshot}:{digest(column_field, campaign, prep_id, site, sort)}"
        if snapshot
        else None
    )
    index = cache.get(key) if key else None
    if index is not None:
        return index
    base = _filtered(campaign, prep_id, site, shown)
    column_totals = dict(base.values_list(column_field).annotate(total=Sum("count")).order_by(column_field))
    # A workflow whose name shows no prep ID is its own group.
    group_key = Coalesce(NullIf(F("step__workflow__prep_id"), Value("")), F("step__workflow__name"))
    within_campaign = ("-total", "group") if sort == "errors" else ("group",)
    groups = list(
        base.annotate(group=group_key, campaign=F("step__workflow__campaign"))
        .values("campaign", "group")
        .annotate(total=Sum("count"))
        .order_by("campaign", *within_campaign)
    )
    campaign_totals: dict[str, int] = defaultdict(int)
    for group in groups:
        campaign_totals[group["campaign"]] += group["total"]
    if sort == "errors":
        # Biggest campaign first; the sort is stable, so the database's order (campaign
        # name, then prep IDs worst first) breaks the ties. One sort over the groups.
        groups.sort(key=lambda group: -campaign_totals[group["campaign"]])
    index = (column_totals, groups, dict(campaign_totals))
    if key:
        cache.set(key, index, settings.WWT["cache"]["errors_minutes"] * 60)
    return index


def _grouped_view(
    pievar: str,
    page: int,
    campaign: str,
    prep_id: str,
    site: str,
    per_page: int,
    snapshot: str,
    sort: str,
    shown: ShownSnapshot | None = None,
) -> dict:
    column_field = "site" if pievar == "errorcode" else "exit_code"
    split_field = PIEVARS[pievar]
    column_param = "sitename" if column_field == "site" else "errorcode"
    # Exit codes are named as people read them (-1 is "NotReported") in titles, slices, links.
    column_title = exit_code_label if column_field == "exit_code" else str
    split_label = exit_code_label if split_field == "exit_code" else (lambda split: split)
    base = _filtered(campaign, prep_id, site, shown)
    column_totals, groups, campaign_totals = _group_index(
        column_field, campaign, prep_id, site, snapshot, sort, shown
    )
    columns = list(column_totals)
    # The list page a pie opens keeps the sort when it is not the default.
    sort_link = {"sort": sort} if sort != "errors" else {}
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
    workflow_totals: dict[str, int] = defaultdict(int)
    step_totals: dict[str, int] = defaultdict(int)
    for step, workflow, prep, is_acdc, column, split, count in cells:
        per_step[workflow][step][column][split_label(split)] = count
        workflow_info[workflow] = (prep or workflow, is_acdc)
        workflow_totals[workflow] += count
        step_totals[step] += count

    if sort == "errors":
        workflow_order = sorted(workflow_info, key=lambda name: (-workflow_totals[name], name))
    else:  # by name, each original before its ACDCs
        workflow_order = sorted(workflow_info, key=lambda name: (workflow_info[name][1], name))
    for workflow in workflow_order:
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
            return {"workflow": workflow, column_param: column_title(column), **sort_link}

        group.rows.append(
            PieRow(
                kind="workflow",
                label=workflow,
                workflow=workflow,
                is_acdc=workflow_info[workflow][1],
                total=workflow_totals[workflow],
                cells=_row_pies(merged, columns, workflow_link, column_title),
            )
        )
        step_key = (lambda name: (-step_totals[name], name)) if sort == "errors" else None
        for step in sorted(steps, key=step_key):
            # A step's pie shows that step only: so does the list page it opens.
            def step_link(column, step=step):
                return {"workflowstep": step, column_param: column_title(column), **sort_link}

            group.rows.append(
                PieRow(
                    kind="step",
                    label=short_task_name(workflow, step),
                    workflow=workflow,
                    total=step_totals[step],
                    cells=_row_pies(steps[step], columns, step_link, column_title),
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


def _code_by_site_view(
    campaign: str, prep_id: str, site: str, sort: str = "errors", shown: ShownSnapshot | None = None
) -> dict:
    """Rows exit codes, columns sites, each pie split by step (biggest steps only)."""
    base = _filtered(campaign, prep_id, site, shown)
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
    sort_link = (("sort", sort),) if sort != "errors" else ()
    codes = sorted({code for code, _, _, _ in totals})
    sites = sorted({site for _, site, _, _ in totals})
    by_cell = {(code, site): (total, steps) for code, site, total, steps in totals}
    rows = []
    for code in codes:
        pies: list[Pie | None] = []
        row_total = 0
        for site in sites:
            if (code, site) not in by_cell:
                pies.append(None)
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
            pies.append(
                Pie(
                    f"exit code {exit_code_label(code)} at {site}",
                    tuple(slices),
                    total,
                    more=bool(rest),
                    url_name=LIST_PAGE,
                    link=(("errorcode", exit_code_label(code)), ("sitename", site), *sort_link),
                )
            )
        rows.append(PieRow(kind="code", label=exit_code_label(code), total=row_total, cells=pies))
    if sort == "errors":  # worst exit code first (stable: ties stay by code)
        rows.sort(key=lambda row: -row.total)
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

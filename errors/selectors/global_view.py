"""The global view: tables of pies over the current snapshot, by exit code, site or step."""

from collections import defaultdict
from dataclasses import dataclass, field
from operator import itemgetter

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import F, Q, Sum, Value
from django.db.models.functions import Coalesce, NullIf

from workflows.exit_codes import exit_code_label
from workflows.models import Step, short_task_name

from ..charts import OTHERS_CLASS
from ..models import SnapshotCellTotal, SnapshotWorkflowTotal
from .cells import cell_totals, top_steps
from .filters import NO_FILTERS, NoiseFilters, previous_bucket
from .pies import Palette, Pie, coloured_slices, legend_of, palette_of, pie_of, snapshot_palettes
from .site_context import site_columns, snapshot_sites
from .snapshot import ErrorsQueryError, ShownSnapshot, current_snapshot, digest, snapshot_cells, snapshot_key

# pievar -> the ErrorCount field its pies split by.
PIEVARS = {"errorcode": "exit_code", "sitename": "site", "stepname": "step"}
PIEVAR_LABELS = {"errorcode": "exit code", "sitename": "site", "stepname": "step"}
GROUPS_PER_PAGE = 10  # prep IDs per page: keeps a page near 200 kB whatever the data size
# Step pies carry three step names each (~600 bytes): 400 keep a stepname page under 300 kB.
PIES_PER_PAGE = 400
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


def _row_pies(splits: dict, columns: list, link_for, title_for, palette: Palette) -> list[Pie | None]:
    return [
        pie_of(title_for(column), splits[column], LIST_PAGE, palette=palette, **link_for(column))
        if column in splits
        else None
        for column in columns
    ]


def _pies_of(view: dict):
    """Every pie of a built view (for its legend)."""
    if view["layout"] == "matrix":
        return (pie for row in view["rows"] for pie in row.cells)
    return (
        pie
        for section in view["sections"]
        for group in section["groups"]
        for row in group.rows
        for pie in row.cells
    )


def _filtered(
    campaign: str = "",
    prep_id: str = "",
    site: str = "",
    filters: NoiseFilters = NO_FILTERS,
    shown: ShownSnapshot | None = None,
):
    queryset = snapshot_cells(shown)
    if site:
        queryset = queryset.filter(site=site)
    if campaign:
        queryset = queryset.filter(step__workflow__campaign=campaign)
    if prep_id:
        queryset = queryset.filter(Q(step__workflow__prep_id=prep_id) | Q(step__workflow__name=prep_id))
    return filters.apply(queryset)


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
    statuses: dict[str, str] | None = None,
    filters: NoiseFilters = NO_FILTERS,
    snapshot: ShownSnapshot | None = None,
) -> dict:
    """The table of pies for `pievar` (one of PIEVARS), optionally narrowed to a campaign,
    a prep ID or a site and less what the noise `filters` leave out. errorcode/sitename:
    rows are prep IDs → workflows → steps, paginated by prep ID; stepname: rows are exit
    codes, columns sites. `sort` (one of SORTS) orders campaigns, prep IDs, workflows, steps
    and exit-code rows; `compact` asks for one column header per page instead of one per
    prep ID. `totals_row` gives the column totals in column order. `palette` colours the
    slices and `legend` names the colours the page shows; when the columns are sites,
    `site_columns` gives each its SiteContext (status from `statuses`, never cached with the
    page). Unfiltered, the sums come from the totals stored at ingestion
    (errors/snapshot_totals.py). Four queries at most without filters (four more once per
    snapshot for the site sums), none when the page is cached. `snapshot` (default: the
    current errors) may be one a ticket link pinned: its kept cells are summed (never the
    stored totals, which are the current snapshot's)."""
    if pievar not in PIEVARS:
        raise ErrorsQueryError(f"pievar must be one of {', '.join(PIEVARS)}, not {pievar!r}")
    if sort not in SORTS:
        raise ErrorsQueryError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    shown = snapshot
    if shown is not None and shown.pinned:
        snapshot, totals_built = snapshot_key(shown), False
    else:
        snapshot, totals_built = current_snapshot()
    key = None
    if snapshot:
        choices = digest(pievar, page, per_page, campaign, prep_id, site, sort, compact, filters.cache_part())
        key = f"wwt:globalview:{snapshot}:{choices}"
        view = cache.get(key)
        if view is not None:
            return _with_site_columns(view, statuses, snapshot, shown, totals_built)
    if pievar == "stepname":
        # Stored totals answer site choices; anything that leaves out workflows sums cells.
        stored = totals_built and not (campaign or prep_id or filters.narrows_workflows)
        view = _code_by_site_view(campaign, prep_id, site, sort, filters, stored, page, shown)
    else:
        stored = totals_built and not (campaign or prep_id or site or filters)
        view = _grouped_view(
            pievar,
            page,
            campaign,
            prep_id,
            site,
            per_page,
            snapshot,
            sort,
            filters,
            stored,
            shown,
            totals_built,
        )
    view["sort"] = sort
    view["compact"] = compact
    view["filters"] = filters
    # The history bucket "grew" compared with (None: no earlier history, all counted as new).
    view["grew_since"] = previous_bucket() if filters.grew else None
    view["totals_row"] = [(column, view["column_totals"][column]) for column in view["columns"]]
    view["legend"] = legend_of(view["palette"], _pies_of(view))
    if key:
        cache.set(key, view, settings.WWT["cache"]["errors_minutes"] * 60)
    return _with_site_columns(view, statuses, snapshot, shown, totals_built)


def _with_site_columns(
    view: dict,
    statuses: dict[str, str] | None,
    snapshot: str,
    shown: ShownSnapshot | None,
    totals_built: bool,
) -> dict:
    """The view with `site_columns` (None when its columns are exit codes); `totals_built`: the
    snapshot's per-site sums were stored at ingestion."""
    contexts = None
    if view["column_label"] == "site":
        contexts = site_columns(
            view["columns"], statuses or {}, snapshot_sites(snapshot, shown, stored=totals_built)
        )
    return {**view, "site_columns": contexts}


def _group_index(
    column_field: str,
    campaign: str,
    prep_id: str,
    site: str,
    snapshot: str,
    sort: str,
    filters: NoiseFilters,
    stored: bool,
    shown: ShownSnapshot | None = None,
) -> tuple[dict, list[tuple[str, str, int]], dict]:
    """Column totals, the prep-ID groups [(campaign, group, total)] in page order and the
    campaign totals: two queries (over the stored totals when `stored`, else over the
    cells), cached per snapshot, choices and sort so paging costs neither."""
    key = (
        f"wwt:groupindex:{snapshot}:"
        f"{digest(column_field, campaign, prep_id, site, sort, filters.cache_part(), stored)}"
        if snapshot
        else None
    )
    index = cache.get(key) if key else None
    if index is not None:
        return index
    if stored:
        column_totals = dict(
            SnapshotCellTotal.objects.values_list(column_field)
            .annotate(sum=Sum("total"))
            .order_by(column_field)
        )
        sums, workflow = SnapshotWorkflowTotal.objects.all(), "workflow__"
    else:
        sums, workflow = _filtered(campaign, prep_id, site, filters, shown), "step__workflow__"
        column_totals = dict(
            sums.values_list(column_field).annotate(total=Sum("count")).order_by(column_field)
        )
    # A workflow whose name shows no prep ID is its own group.
    if stored:
        # 20k workflows: summed here, plain tuples, no per-row converters of an SQL GROUP BY.
        per_group: dict[tuple[str, str], int] = defaultdict(int)
        rows = sums.values_list("workflow__campaign", "workflow__prep_id", "workflow__name", "total")
        for workflow_campaign, workflow_prep_id, name, total in rows:
            per_group[(workflow_campaign, workflow_prep_id or name)] += total
        groups = [(group_campaign, group, total) for (group_campaign, group), total in per_group.items()]
    else:
        group_key = Coalesce(NullIf(F(f"{workflow}prep_id"), Value("")), F(f"{workflow}name"))
        groups = list(
            sums.annotate(group=group_key, group_campaign=F(f"{workflow}campaign"))
            .values_list("group_campaign", "group")
            .annotate(total=Sum("count"))
            .order_by()
        )
    campaign_totals: dict[str, int] = defaultdict(int)
    for group_campaign, _, total in groups:
        campaign_totals[group_campaign] += total
    # Sorted here in one pass, not in SQL: Python compares code points as the database
    # compares bytes, and 16k groups under a locale collation cost PostgreSQL ~100 ms.
    if sort == "errors":  # biggest campaign first, then its prep IDs worst first; names break ties
        # Stable passes, last key first (reverse keeps ties in order): a third of the time of
        # one tuple key over 16k groups.
        groups.sort(key=itemgetter(1))
        groups.sort(key=itemgetter(2), reverse=True)
        groups.sort(key=itemgetter(0))
        groups.sort(key=lambda group: campaign_totals[group[0]], reverse=True)
    else:
        groups.sort(key=lambda group: (group[0], group[1]))
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
    filters: NoiseFilters,
    stored: bool,
    shown: ShownSnapshot | None = None,
    totals_built: bool = False,
) -> dict:
    column_field = "site" if pievar == "errorcode" else "exit_code"
    split_field = PIEVARS[pievar]
    column_param = "sitename" if column_field == "site" else "errorcode"
    # Exit codes are named as people read them (-1 is "NotReported") in titles, slices, links.
    column_title = exit_code_label if column_field == "exit_code" else str
    split_label = exit_code_label if split_field == "exit_code" else (lambda split: split)
    base = _filtered(campaign, prep_id, site, filters, shown)
    column_totals, groups, campaign_totals = _group_index(
        column_field, campaign, prep_id, site, snapshot, sort, filters, stored, shown
    )
    columns = list(column_totals)
    # The list page a pie opens keeps the sort when it is not the default.
    sort_link = {"sort": sort} if sort != "errors" else {}
    # One colour per exit code (site) across the snapshot's pages.
    palette = snapshot_palettes(snapshot_sites(snapshot, shown, stored=totals_built))[split_field]
    paginator = Paginator(groups, per_page)
    page_obj = paginator.get_page(page)
    shown = {group: PrepGroup(group, group_campaign, total) for group_campaign, group, total in page_obj}

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
                cells=_row_pies(merged, columns, workflow_link, column_title, palette),
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
                    cells=_row_pies(steps[step], columns, step_link, column_title, palette),
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
        "palette": palette,
    }


def _brief_step(step_name: str) -> str:
    """`workflow…/task` for tooltips: full step paths would make the page heavy."""
    parts = step_name.split("/")
    workflow = parts[1] if len(parts) > 2 else step_name
    workflow = workflow if len(workflow) <= 40 else workflow[:39] + "…"
    return f"{workflow}/…/{parts[-1]}" if len(parts) > 3 else f"{workflow}/{parts[-1]}"


def _code_by_site_view(
    campaign: str,
    prep_id: str,
    site: str,
    sort: str,
    filters: NoiseFilters,
    stored: bool,
    page: int,
    shown: ShownSnapshot | None = None,
) -> dict:
    """Rows exit codes, columns sites, each pie split by step (biggest steps only), paged by
    whole rows of PIES_PER_PAGE pies at most; `column_totals` count every page."""
    if stored:  # the totals and biggest steps stored at ingestion, less the site choices
        stored_cells = SnapshotCellTotal.objects.all()
        if site:
            stored_cells = stored_cells.filter(site=site)
        if filters.hide_sites:
            stored_cells = stored_cells.exclude(site__in=filters.hide_sites)
        stored_rows = list(stored_cells.values_list("exit_code", "site", "total", "steps", "top_steps"))
        totals = [(code, site, total, steps) for code, site, total, steps, _ in stored_rows]
        ranked = [(code, site, *step) for code, site, _, _, biggest in stored_rows for step in biggest]
    else:
        base = _filtered(campaign, prep_id, site, filters, shown)
        totals, ranked = cell_totals(base), top_steps(base)
    # Names apart: carrying long step names through the window's sort doubles its cost.
    # At most codes × sites × STEP_SLICES ids, whatever the number of workflows.
    names = dict(
        Step.objects.filter(id__in={step_id for _, _, step_id, _ in ranked}).values_list("id", "name")
    )
    top: dict = defaultdict(dict)
    step_totals: dict[str, int] = defaultdict(int)
    for code, site, step_id, count in ranked:
        label = _brief_step(names[step_id])
        top[(code, site)][label] = top[(code, site)].get(label, 0) + count
        step_totals[label] += count
    # Steps differ from page to page: their colours come from the steps this page draws.
    palette = palette_of("step", step_totals, from_page=True)
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
            # The window query brought the biggest steps of the cell; the rest is grey.
            cell_top = top[(code, site)]
            slices, colours = coloured_slices(
                cell_top,
                palette,
                rest=total - sum(cell_top.values()),
                rest_values=n_steps - len(cell_top),
                noun="other step",
            )
            pies.append(
                Pie(
                    f"exit code {exit_code_label(code)} at {site}",
                    slices,
                    total,
                    more=colours[-1] == OTHERS_CLASS,
                    url_name=LIST_PAGE,
                    link=(("errorcode", exit_code_label(code)), ("sitename", site), *sort_link),
                    colours=colours,
                )
            )
        rows.append(PieRow(kind="code", label=exit_code_label(code), total=row_total, cells=pies))
    if sort == "errors":  # worst exit code first (stable: ties stay by code)
        rows.sort(key=lambda row: -row.total)
    column_totals = defaultdict(int)
    for (_, site), (total, _) in by_cell.items():
        column_totals[site] += total
    pages = _pages_of_rows(rows, PIES_PER_PAGE)
    number = min(max(page, 1), len(pages))
    return {
        "layout": "matrix",
        "pievar": "stepname",
        "split_label": "step",
        "column_label": "site",
        "columns": sites,
        "column_totals": dict(column_totals),
        "rows": pages[number - 1],
        "page": PageInfo(number, len(pages)),
        "total": sum(column_totals.values()),
        "palette": palette,
    }


def _pages_of_rows(rows: list[PieRow], pies_per_page: int) -> list[list[PieRow]]:
    """`rows` cut into pages of whole rows holding at most `pies_per_page` pies (a row with
    more has a page of its own); one empty page when there are no rows."""
    pages: list[list[PieRow]] = [[]]
    pies = 0
    for row in rows:
        in_row = sum(1 for cell in row.cells if cell is not None)
        if pages[-1] and pies + in_row > pies_per_page:
            pages.append([])
            pies = 0
        pages[-1].append(row)
        pies += in_row
    return pages

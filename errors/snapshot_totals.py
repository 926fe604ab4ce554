"""The current snapshot's totals per (exit code, site) and per workflow, stored by every
ingestion so the global view never sums the whole snapshot while an operator waits.

At 20,000 workflows (380k cells) the sums take about a second on PostgreSQL; read from
these tables the cold global view is a few thousand small rows. The rows belong to the
import that built them (ErrorImport.totals_built): anything else that changes the cells
leaves the flag unset and the pages sum the cells as before.

An ingestion holds every cell in memory when it stores them, so it passes them in
(`sums_of_cells`) instead of summing the table again; `sums_in_database` gives the same
sums from the stored cells for any other caller.
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from workflows.bulk import bulk_insert

from .models import ErrorCount, ErrorImport, SnapshotCellTotal, SnapshotWorkflowTotal
from .selectors.cells import STEP_SLICES, cell_totals, site_totals, top_steps, workflow_totals
from .site_totals import rebuild_site_totals


@dataclass
class SnapshotSums:
    """What the stored totals hold: (exit code, site, failed jobs, steps) per cell, the
    cell's biggest steps ([[step id, count], ...] biggest first, ties by step id, at most
    STEP_SLICES), (workflow id, failed jobs) per workflow and (site, failed jobs, workflows,
    steps) per site. Rows in no set order."""

    cells: list[tuple[int, str, int, int]]
    top_steps: dict[tuple[int, str], list[list[int]]]
    workflows: list[tuple[int, int]]
    sites: list[tuple[str, int, int, int]]


def sums_in_database() -> SnapshotSums:
    """The sums of the cells now in ErrorCount, computed by the database."""
    cells = ErrorCount.objects.all()
    biggest: dict[tuple[int, str], list[list[int]]] = defaultdict(list)
    for code, site, step_id, count in top_steps(cells):
        biggest[(code, site)].append([step_id, count])
    for ranked in biggest.values():  # the window gives each cell's steps in no set order
        ranked.sort(key=lambda step: (-step[1], step[0]))
    return SnapshotSums(cell_totals(cells), dict(biggest), workflow_totals(cells), site_totals(cells))


def sums_of_cells(
    counts: Mapping[tuple[int, int, str], int], workflow_of_step: Mapping[int, int]
) -> SnapshotSums:
    """The sums of `counts` ({(step id, exit code, site): count}, as an ingestion stores
    them) with `workflow_of_step` ({step id: workflow id}); the same as sums_in_database
    would give once they are stored, in a few numpy passes instead of three aggregates."""
    if not counts:
        return SnapshotSums([], {}, [], [])
    import numpy as np  # not at import time: web processes load this module, never numpy

    size = len(counts)
    cell_index: dict[tuple[int, str], int] = {}
    cell = np.fromiter(
        (cell_index.setdefault((code, site), len(cell_index)) for _, code, site in counts), np.int64, size
    )
    step = np.fromiter((step_id for step_id, _, _ in counts), np.int64, size)
    count = np.fromiter(counts.values(), np.int64, size)

    # Each cell's steps together, biggest count first, ties by step id (as top_steps ranks).
    order = np.lexsort((step, -count, cell))
    sorted_cell = cell[order]
    starts = np.flatnonzero(np.r_[True, sorted_cell[1:] != sorted_cell[:-1]])
    totals = np.add.reduceat(count[order], starts)
    steps = np.diff(np.r_[starts, size])
    rank = np.arange(size) - np.repeat(starts, steps)
    top = order[rank < STEP_SLICES]

    cell_keys = list(cell_index)
    biggest: dict[tuple[int, str], list[list[int]]] = defaultdict(list)
    for index, step_id, step_count in zip(
        cell[top].tolist(), step[top].tolist(), count[top].tolist(), strict=True
    ):
        biggest[cell_keys[index]].append([step_id, step_count])
    cells = [
        (*cell_keys[index], total, step_count)
        for index, total, step_count in zip(
            sorted_cell[starts].tolist(), totals.tolist(), steps.tolist(), strict=True
        )
    ]

    known_steps = np.fromiter(workflow_of_step.keys(), np.int64, len(workflow_of_step))
    step_workflows = np.fromiter(workflow_of_step.values(), np.int64, len(workflow_of_step))
    by_step = np.argsort(known_steps)
    workflow = step_workflows[by_step][np.searchsorted(known_steps[by_step], step)]
    by_workflow = np.argsort(workflow, kind="stable")
    sorted_workflow = workflow[by_workflow]
    workflow_starts = np.flatnonzero(np.r_[True, sorted_workflow[1:] != sorted_workflow[:-1]])
    workflow_sums = np.add.reduceat(count[by_workflow], workflow_starts)
    workflows = list(zip(sorted_workflow[workflow_starts].tolist(), workflow_sums.tolist(), strict=True))
    return SnapshotSums(cells, dict(biggest), workflows, _site_sums(counts, step, workflow, count))


def _site_sums(counts, step, workflow, count) -> list[tuple[str, int, int, int]]:
    """(site, failed jobs, distinct workflows, distinct steps) per site of the cells, whose
    step and workflow ids and counts are the arrays in `counts`' order."""
    import numpy as np

    site_index: dict[str, int] = {}
    site = np.fromiter(
        (site_index.setdefault(name, len(site_index)) for _, _, name in counts), np.int64, len(counts)
    )
    errors = np.bincount(site, weights=count, minlength=len(site_index))

    def distinct_per_site(ids):
        pairs = np.unique(site * (int(ids.max()) + 1) + ids)
        return np.bincount(pairs // (int(ids.max()) + 1), minlength=len(site_index))

    workflows, steps = distinct_per_site(workflow), distinct_per_site(step)
    return [
        (name, int(errors[index]), int(workflows[index]), int(steps[index]))
        for name, index in site_index.items()
    ]


def rebuild_snapshot_totals(sums: SnapshotSums | None = None) -> None:
    """Replace the stored totals with `sums` (default: those of the cells now in ErrorCount,
    summed by the database) and mark the latest current-errors import as summed. Runs inside
    the ingestion's transaction, after the import is recorded, so readers see the old cells
    and totals or the new ones."""
    if sums is None:
        sums = sums_in_database()
    SnapshotCellTotal.objects.all().delete()
    SnapshotWorkflowTotal.objects.all().delete()
    bulk_insert(
        SnapshotCellTotal,
        ("exit_code", "site", "total", "steps", "top_steps"),
        [
            (code, site, total, steps, sums.top_steps.get((code, site), []))
            for code, site, total, steps in sums.cells
        ],
    )
    bulk_insert(SnapshotWorkflowTotal, ("workflow_id", "total"), sums.workflows)
    latest = ErrorImport.objects.filter(kind=ErrorImport.Kind.CURRENT).order_by("-finished_at").first()
    if latest is not None:
        ErrorImport.objects.filter(pk=latest.pk).update(totals_built=True)
    rebuild_site_totals(sums.sites)

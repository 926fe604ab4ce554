"""The current snapshot's totals per (exit code, site) and per workflow, stored by every
ingestion so the global view never sums the whole snapshot while an operator waits.

At 20,000 workflows (380k cells) the sums take about a second on PostgreSQL; read from
these tables the cold global view is a few thousand small rows. The rows belong to the
import that built them (ErrorImport.totals_built): anything else that changes the cells
leaves the flag unset and the pages sum the cells as before.
"""

from collections import defaultdict

from workflows.bulk import bulk_insert

from .models import ErrorCount, ErrorImport, SnapshotCellTotal, SnapshotWorkflowTotal
from .selectors.cells import cell_totals, top_steps, workflow_totals
from .site_totals import rebuild_site_totals


def rebuild_snapshot_totals() -> None:
    """Replace the stored totals with those of the cells now in ErrorCount and mark the
    latest current-errors import as summed. Runs inside the ingestion's transaction, after
    the import is recorded, so readers see the old cells and totals or the new ones."""
    cells = ErrorCount.objects.all()
    biggest: dict[tuple[int, str], list[list[int]]] = defaultdict(list)
    for code, site, step_id, count in top_steps(cells):
        biggest[(code, site)].append([step_id, count])
    for ranked in biggest.values():  # the window gives each cell's steps in no set order
        ranked.sort(key=lambda step: (-step[1], step[0]))
    SnapshotCellTotal.objects.all().delete()
    SnapshotWorkflowTotal.objects.all().delete()
    # A thousand rows or so: bulk_create encodes the JSON alike on every database.
    SnapshotCellTotal.objects.bulk_create(
        [
            SnapshotCellTotal(
                exit_code=code, site=site, total=total, steps=steps, top_steps=biggest[(code, site)]
            )
            for code, site, total, steps in cell_totals(cells)
        ],
        batch_size=2000,
    )
    bulk_insert(SnapshotWorkflowTotal, ("workflow_id", "total"), workflow_totals(cells))
    latest = ErrorImport.objects.filter(kind=ErrorImport.Kind.CURRENT).order_by("-finished_at").first()
    if latest is not None:
        ErrorImport.objects.filter(pk=latest.pk).update(totals_built=True)
    rebuild_site_totals()

"""The current snapshot's sums per site (errors, failing workflows, steps), stored by every
ingestion beside the totals of errors/snapshot_totals.py: the distinct counts take half a
second at 20,000 workflows on PostgreSQL, which no page should make an operator wait for.
errors/selectors/site_context.py reads them while the latest import's totals are built."""

from .models import SnapshotSiteTotal


def rebuild_site_totals(sites: list[tuple[str, int, int, int]]) -> None:
    """Replace the stored per-site sums with `sites` ((site, failed jobs, workflows, steps)
    rows, as site_totals() gives them). Runs in rebuild_snapshot_totals(), inside the
    ingestion's transaction."""
    SnapshotSiteTotal.objects.all().delete()
    SnapshotSiteTotal.objects.bulk_create(
        SnapshotSiteTotal(site=site, errors=errors, workflows=workflows, steps=steps)
        for site, errors, workflows, steps in sites
    )

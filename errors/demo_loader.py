"""The errors part of the demo: write the generated documents (errors/demo.py) to disk,
load them as the current snapshot and fill some days of history. The `load_demo_data`
command (the top layer) calls `load_demo_errors` and adds the other apps' parts."""

import json
import random
import threading
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from workflows.demo_sources import make_server
from workflows.models import Workflow
from workflows.services import ensure_steps

from . import caches, demo, log_samples
from .history import history_bucket, sync_history_bucket, update_history
from .ingestion import IngestReport, ingest_current_errors, ingestion_lock, keyed_cells, parse_error_document

DEMO_SOURCE_FILES = ("job_detail", "requests", "acdc", "site_status", "logs")


def load_demo_errors(
    *, n_workflows: int = 300, seed: int = 1, days: int = 7, directory: Path
) -> IngestReport:
    """Write the generated demo documents under `directory` (all_errors.json, and in
    `sources/` what the fake sources of workflows/demo_sources.py serve), make all_errors
    the current snapshot, fill `days` of daily history with varied counts and build the
    heavy pages (caches.warm_page_caches)."""
    generated = demo.generate_demo(n_workflows, seed=seed)
    document = generated["all_errors"]
    (directory / "sources").mkdir(parents=True, exist_ok=True)
    path = directory / "all_errors.json"
    path.write_text(json.dumps(document))
    for name in DEMO_SOURCE_FILES:
        (directory / "sources" / f"{name}.json").write_text(json.dumps(generated[name]))
    report = ingest_current_errors(str(path))
    rng = random.Random(seed)
    cells, _, _ = parse_error_document(document)
    with ingestion_lock(), transaction.atomic():
        step_ids = ensure_steps({cell[0] for cell in cells})
        current = keyed_cells(cells, step_ids)
        for day in range(days, 0, -1):
            # Errors pile up over the days: older buckets hold a varying fraction of today's.
            share = (days - day + 1) / (days + 1)
            wanted = {
                key: max(1, int(count * share * rng.uniform(0.5, 1.2)))
                for key, count in current.items()
                if rng.random() < 0.4 + 0.6 * share
            }
            sync_history_bucket(wanted, history_bucket(timezone.now() - timedelta(days=day)))
    update_history()
    fetch_demo_log_samples(directory / "sources")
    caches.warm_page_caches()  # as every ingestion path ends: the first page view is served warm
    return report


def fetch_demo_log_samples(sources: Path) -> dict:
    """Store the log samples of the tour's workflows and of the biggest cells' workflows, as
    the refresh job would, from the demo's job-detail document: served for the time of the
    fetch by the demo sources' own server on a free port, so the real WMStats client reads it."""
    server = make_server(sources, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    wmstats = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with override_settings(
            WWT={**settings.WWT, "sources": {**settings.WWT["sources"], "wmstats": wmstats}}
        ):
            for workflow in Workflow.objects.filter(name__in=demo.TOUR_WORKFLOWS):
                log_samples.fetch_log_samples(workflow.name)
            return log_samples.fetch_top_cells_samples()
    finally:
        server.shutdown()
        server.server_close()

"""Pages as data and ticket links at 1,000 / 5,000 generated workflows (`BENCH_SIZES`):

- pinning a snapshot (the INSERT … SELECT copy of every current cell), floor: reading the
  same cells once (values_list over ErrorCount);
- /globalerror as JSON, floor: the same page as HTML (both warm, built once per snapshot);
- a pinned /globalerror (cold: first build; warm), floor: the current page, cold and warm.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/wwt make bench ARGS="-k page_data"
"""

import json
import time

import pytest
from django.core.cache import cache
from django.test import Client

from errors import demo
from errors.ingestion import ingest_current_errors
from errors.models import ErrorCount, ErrorImport, PinnedCell
from errors.pinning import pin_snapshot

from .targets import SIZES, median, report

RUNS = 5


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def page_ms(client: Client, url: str, *, cold: bool) -> float:
    def get():
        assert client.get(url).status_code == 200

    if cold:
        return median([timed(lambda: (cache.clear(), get())) for _ in range(RUNS)])
    get()
    return median([timed(get) for _ in range(RUNS)])


@pytest.mark.django_db
@pytest.mark.parametrize("n_workflows", SIZES)
def test_page_data_and_ticket_links(n_workflows, tmp_path, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.WWT = {**settings.WWT, "sources": {**settings.WWT["sources"], "site_status": None}}
    path = tmp_path / "all_errors.json"
    path.write_text(json.dumps(demo.generate_error_document(n_workflows, seed=7)))
    ingest_current_errors(str(path))
    snapshot = ErrorImport.objects.get(kind="current")

    def unpin():
        PinnedCell.objects.all().delete()
        ErrorImport.objects.filter(pk=snapshot.pk).update(pinned_at=None)

    pins, reads = [], []
    for _ in range(RUNS):
        unpin()
        pins.append(timed(lambda: pin_snapshot(snapshot.pk)))
        reads.append(timed(lambda: list(ErrorCount.objects.values_list("step_id", "exit_code", "site", "count"))))
    cells = PinnedCell.objects.count()
    report(f"pin a snapshot ({cells} cells)", n_workflows, median(pins), "ms", floor=median(reads),
           floor_name="read its cells")  # fmt: skip

    client = Client()
    url = "/globalerror?pievar=errorcode"
    html = page_ms(client, url, cold=False)
    report("/globalerror as JSON, warm", n_workflows, page_ms(client, url + "&format=json", cold=False), "ms",
           floor=html, floor_name="HTML, warm")  # fmt: skip
    pinned = f"{url}&snapshot={snapshot.pk}"
    report("pinned /globalerror, cold", n_workflows, page_ms(client, pinned, cold=True), "ms",
           floor=page_ms(client, url, cold=True), floor_name="current, cold")  # fmt: skip
    report("pinned /globalerror, warm", n_workflows, page_ms(client, pinned, cold=False), "ms",
           floor=html, floor_name="current, warm")  # fmt: skip

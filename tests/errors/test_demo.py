"""Generated data: realistic, deterministic, and loadable by the demo command."""

from io import StringIO

import pytest
from django.core.management import call_command

from clustering.models import Clustering, ClusterMembership
from errors import demo, services
from errors.models import ErrorCount, ErrorHistory
from workflows.models import Workflow


def test_generation_is_deterministic_and_sized_like_production():
    document = demo.generate_error_document(200, seed=3)
    assert document == demo.generate_error_document(200, seed=3)
    assert document != demo.generate_error_document(200, seed=4)
    # The generator's sizes are counted over every step, LogCollect/Cleanup ones included.
    cells, bad, _ = services.parse_error_document(document, keep_logcollect_cleanup=True)
    workflows = {step.split("/")[1] for step in document}
    assert bad == [] and len(workflows) == 200
    assert 5 <= len(document) / 200 <= 9  # steps per workflow
    assert 3 <= len(cells) / len(document) <= 7  # cells per step
    assert any("ACDC" in name for name in workflows)
    assert {site for _, _, site, _ in cells} <= set(demo.SITES)


@pytest.mark.django_db
def test_demo_command_loads_once(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command("load_demo_data", "--workflows", "40", "--days", "3", stdout=out)
    assert "demo data in" in out.getvalue()
    assert Workflow.objects.filter(is_acdc=True, original__isnull=False).exists()
    assert ErrorCount.objects.count() > 100
    buckets = ErrorHistory.objects.values("bucket").distinct().count()
    assert buckets == 4  # three past days + now
    assert (tmp_path / "demo" / "site_status.json").exists()
    clustered = ClusterMembership.objects.filter(clustering__state=Clustering.State.DONE)
    assert clustered.count() == Workflow.objects.filter(steps__errors__isnull=False).distinct().count()

    again = StringIO()
    call_command("load_demo_data", stdout=again)
    assert "already present" in again.getvalue()


@pytest.mark.django_db
def test_the_demo_config_reads_every_file_the_demo_command_writes(
    settings, tmp_path, monkeypatch, empty_cache
):
    from pathlib import Path

    from workflows import selectors as workflow_selectors
    from wwt_project.config import load_config

    config = load_config(Path(settings.BASE_DIR) / "config.demo.yml")
    # `make run` starts everything in the project directory, where VAR_DIR is ./var.
    monkeypatch.chdir(tmp_path)
    settings.VAR_DIR = tmp_path / "var"
    settings.WWT = config
    call_command("load_demo_data", "--workflows", "5", "--days", "1", stdout=StringIO())

    written = {f"var/demo/{path.name}" for path in (tmp_path / "var" / "demo").iterdir()}
    assert written == {"var/demo/all_errors.json", "var/demo/site_status.json"}
    assert written <= {value for value in config["sources"].values() if isinstance(value, str)}
    statuses = workflow_selectors.site_status_answer()
    assert statuses.ok and set(statuses.value) == set(demo.SITES)
    assert set(statuses.value.values()) <= {"enabled", "drain", "disabled"}

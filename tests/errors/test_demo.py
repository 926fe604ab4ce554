"""Generated data: realistic, deterministic, and loadable by the demo command."""

from io import StringIO

import pytest
from django.core.management import call_command

from actions.demo import DEMO_LATE, DEMO_PENDING
from actions.models import Action, ActionSubmission
from clustering.models import ClusterMembership, Predictor, ReclusteringJob
from errors import demo, demo_loader, ingestion
from errors.models import ErrorCount, ErrorHistory
from workflows.models import Workflow


def test_generation_is_deterministic_and_sized_like_production():
    document = demo.generate_error_document(200, seed=3)
    assert document == demo.generate_error_document(200, seed=3)
    assert document != demo.generate_error_document(200, seed=4)
    # The generator's sizes are counted over every step, LogCollect/Cleanup ones included.
    cells, bad, _ = ingestion.parse_error_document(document, keep_logcollect_cleanup=True)
    workflows = {step.split("/")[1] for step in document}
    assert bad == [] and len(workflows) == 200
    assert 5 <= len(document) / 200 <= 9  # steps per workflow
    assert 3 <= len(cells) / len(document) <= 7  # cells per step
    assert any("ACDC" in name for name in workflows)
    assert {site for _, _, site, _ in cells} <= set(demo.SITES)


@pytest.mark.django_db
def test_demo_command_loads_once(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.WWT = {**settings.WWT, "clustering": {**settings.WWT["clustering"], "model_dir": str(tmp_path)}}
    out = StringIO()
    call_command("load_demo_data", "--workflows", "40", "--days", "3", stdout=out)
    assert "demo data in" in out.getvalue()
    assert Workflow.objects.filter(is_acdc=True, original__isnull=False).exists()
    assert ErrorCount.objects.count() > 100
    buckets = ErrorHistory.objects.values("bucket").distinct().count()
    assert buckets == 4  # three past days + now
    # Past actions on workflows other than the tour's, and a predictor trained on them.
    acted_on = Workflow.objects.filter(action_submissions__isnull=False).distinct()
    assert acted_on.count() == ActionSubmission.objects.count() >= 10
    assert not acted_on.filter(name__in=demo.TOUR_WORKFLOWS).exists()
    # Each is the workflow's current action too: most reported, a few pending for getaction.
    assert Action.objects.count() == ActionSubmission.objects.count()
    pending = Action.objects.filter(reported_at=None)
    assert pending.count() == DEMO_PENDING + DEMO_LATE
    assert set(pending.values_list("submission__reported_at", flat=True)) == {None}
    assert all(action.served_entry()["user"] == "demo-operator" for action in pending)
    assert Predictor.objects.exclude(model_file="").count() == 1
    assert (tmp_path / "demo" / "sources" / "site_status.json").exists()
    clustered = ClusterMembership.objects.filter(clustering__state=ReclusteringJob.State.DONE)
    assert clustered.count() == Workflow.objects.filter(steps__errors__isnull=False).distinct().count()

    again = StringIO()
    call_command("load_demo_data", stdout=again)
    assert "already present" in again.getvalue()


@pytest.mark.django_db
def test_the_demo_config_reads_the_errors_the_demo_command_writes(
    settings, tmp_path, monkeypatch, empty_cache
):
    """The other sources are the fake server's (tests/test_demo_loop.py); all_errors is a file."""
    from pathlib import Path

    from wwt_project.config import load_config

    config = load_config(Path(settings.BASE_DIR) / "config.demo.yml")
    # `make run` starts everything in the project directory, where VAR_DIR is ./var.
    monkeypatch.chdir(tmp_path)
    settings.VAR_DIR = tmp_path / "var"
    settings.WWT = config
    config["clustering"]["model_dir"] = str(tmp_path / "models")
    call_command("load_demo_data", "--workflows", "5", "--days", "1", stdout=StringIO())

    demo_dir = tmp_path / "var" / "demo"
    assert (tmp_path / config["sources"]["all_errors"]) == demo_dir / "all_errors.json"
    assert {path.name for path in demo_dir.iterdir()} == {"all_errors.json", "sources"}
    assert {path.stem for path in (demo_dir / "sources").iterdir()} == set(demo_loader.DEMO_SOURCE_FILES)
    report = ingestion.ingest_current_errors(config["sources"]["all_errors"])
    assert report.workflows >= 5 + len(demo.TOUR_WORKFLOWS)

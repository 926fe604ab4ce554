"""Clustering test helpers: a small config with models under tmp_path, and error builders."""

import copy

import pytest

from clustering.model_files import load_axes, load_model
from errors.models import ErrorCount
from workflows.models import Step, Workflow


@pytest.fixture(autouse=True)
def clustering_config(settings, tmp_path):
    config = copy.deepcopy(settings.WWT)
    config["clustering"].update(n_clusters=2, n_init=4, model_dir=str(tmp_path / "models"))
    settings.WWT = config
    load_model.cache_clear()  # each test writes its own files; start with none loaded
    load_axes.cache_clear()
    return config["clustering"]


def add_errors(name: str, cells: list[tuple[int, str, int]], *, task: str = "Task1") -> Workflow:
    """A workflow with one step holding `cells` as (exit code, site, count)."""
    workflow, _ = Workflow.objects.get_or_create(name=name)
    step, _ = Step.objects.get_or_create(workflow=workflow, name=f"/{name}/{task}")
    ErrorCount.objects.bulk_create(
        [ErrorCount(step=step, exit_code=code, site=site, count=count) for code, site, count in cells]
    )
    return workflow

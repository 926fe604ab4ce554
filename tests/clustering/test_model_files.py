"""Model files: the last few kept on disk for both kinds, each loaded once per process,
and the recluster bar's stages named by the service."""

from io import StringIO
from pathlib import Path

import joblib
import pytest
from django.core.management import call_command

from clustering import fitting, jobs, model_files, placement, prediction
from clustering.models import Predictor
from tests.clustering.conftest import add_errors
from tests.clustering.synthetic import make_action_history

pytestmark = pytest.mark.django_db


def count_disk_loads(monkeypatch) -> list[str]:
    loads = []
    real_load = joblib.load

    def counting_load(path, *args, **kwargs):
        loads.append(str(path))
        return real_load(path, *args, **kwargs)

    monkeypatch.setattr(joblib, "load", counting_load)  # model_files imports joblib when it loads
    return loads


def test_the_cluster_model_is_read_from_disk_once_however_many_pages_place_newcomers(monkeypatch):
    add_errors("wf_alpha", [(50660, "T2_CH_CERN", 10)])
    add_errors("wf_gamma", [(8028, "T1_US_FNAL", 30)])
    fit = jobs.recluster_workflows()
    newcomers = [add_errors(f"wf_new_{i}", [(8028, "T1_US_FNAL", 20 + i)]) for i in range(3)]
    loads = count_disk_loads(monkeypatch)
    for newcomer in newcomers * 2:
        assert [entry.name for entry in placement.similar_panel(newcomer).similar] == ["wf_gamma"]
    assert loads == [fit.model_file]


def test_the_predictor_is_read_from_disk_once_for_every_suggestion(monkeypatch):
    make_action_history(40)
    predictor = prediction.train_predictor()
    first = add_errors("wf_memory", [(50660, "T2_CH_CERN", 80)])
    second = add_errors("wf_other", [(8028, "T1_US_FNAL", 20)])
    loads = count_disk_loads(monkeypatch)
    for workflow in [first, second, first]:
        assert prediction.suggest_action(workflow) is not None
    assert loads == [predictor.model_file]


def test_a_file_that_failed_to_load_is_tried_again_once_it_is_readable(tmp_path):
    path = tmp_path / "later.joblib"
    path.write_bytes(b"not yet a model")
    with pytest.raises(model_files.ClusteringError, match="cannot read the stored model"):
        model_files.load_model(str(path))
    joblib.dump({"ready": True}, path)
    assert model_files.load_model(str(path)) == {"ready": True}


def test_only_the_last_predictor_files_are_kept_like_the_cluster_models():
    make_action_history(40)
    trained = [prediction.train_predictor() for _ in range(model_files.MODEL_FILES_KEPT + 1)]
    assert not Path(trained[0].model_file).exists()
    assert Predictor.objects.get(pk=trained[0].pk).model_file == ""
    assert all(Path(p.model_file).exists() for p in trained[1:])


def test_the_recluster_command_draws_the_stages_the_service_goes_through(monkeypatch):
    add_errors("wf_alpha", [(50660, "T2_CH_CERN", 10)])
    add_errors("wf_gamma", [(8028, "T1_US_FNAL", 30)])
    seen = []
    real = jobs.recluster_workflows

    def recording(*args, progress=None, **kwargs):
        def record(stage):
            seen.append(stage)
            progress(stage)

        return real(*args, progress=record, **kwargs)

    monkeypatch.setattr(jobs, "recluster_workflows", recording)
    err = StringIO()
    call_command("recluster", stdout=StringIO(), stderr=err)
    assert seen == fitting.STAGES == jobs.STAGES
    assert f"{len(fitting.STAGES)}/{len(fitting.STAGES)}" in err.getvalue()

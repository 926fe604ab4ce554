"""One error pattern at very different volumes stays one cluster (issue #18 item 5).

The data is an all_errors document in Unified's shape (SOURCES.md: step path → exit code as
a string → site → count, with the zero cells and `NotReported` the producer emits), ingested
as in production. One pattern (50660 at CERN with some 8001 at FNAL, 3:1) appears at 10, 100
and 10,000 failures; two other patterns sit beside it, and the fit may use up to ten clusters,
so KMeans has spare clusters to split the big pattern by volume if the vectors let it.
"""

import json

import pytest

from clustering import jobs
from clustering.models import ClusterMembership
from errors.ingestion import ingest_current_errors

pytestmark = pytest.mark.django_db

VOLUMES = [10, 100, 10_000]


def pattern_document() -> dict:
    document = {}
    for volume in VOLUMES:
        for copy in range(3):
            name = f"pdmvserv_task_HIG-Run3-0000{copy}__v1_T_volume{volume}"
            document[f"/{name}/HIG-Run3-0000{copy}_0"] = {
                "50660": {"T2_CH_CERN": volume * 3 // 4, "T1_US_FNAL": 0},
                "8001": {"T2_CH_CERN": 0, "T1_US_FNAL": volume // 4},
                "NotReported": {"T2_CH_CERN": 0},
            }
    for i, count in enumerate([40, 55, 70]):
        document[f"/cmsunified_task_EGM-Run3-0001{i}__v1_T_other/EGM-Run3-0001{i}_0"] = {
            "8028": {"T1_IT_CNAF": count}
        }
        document[f"/cmsunified_task_TOP-Run3-0002{i}__v1_T_other/TOP-Run3-0002{i}_0"] = {
            "71304": {"T2_US_MIT": count, "T2_DE_DESY": count // 2}
        }
    return document


def clusters_of_each_pattern(tmp_path) -> dict[str, set[int]]:
    path = tmp_path / "all_errors.json"
    path.write_text(json.dumps(pattern_document()))
    ingest_current_errors(str(path))
    jobs.recluster_workflows()
    clusters = dict(ClusterMembership.objects.values_list("workflow__name", "cluster"))
    return {
        pattern: {cluster for name, cluster in clusters.items() if marker in name}
        for pattern, marker in [("volume", "_volume"), ("EGM", "EGM-"), ("TOP", "TOP-")]
    }


@pytest.mark.pg_too
def test_one_pattern_at_volumes_10_100_and_10000_is_one_cluster(clustering_config, tmp_path):
    clustering_config.update(n_clusters=10)
    found = clusters_of_each_pattern(tmp_path)
    assert len(found["volume"]) == 1, f"the one pattern split into clusters {sorted(found['volume'])}"
    assert len(found["EGM"]) == 1 and len(found["TOP"]) == 1
    assert len(found["volume"] | found["EGM"] | found["TOP"]) == 3


def test_shells_that_grow_with_volume_split_it_again(clustering_config, tmp_path):
    """Why `width` defaults to 0: at the original tool's 0.25 a workflow with 10 failures sits
    ~0.2 closer to the origin than one with 10,000, and a spare cluster takes it."""
    clustering_config.update(n_clusters=10)
    for shell in ("errorcode", "sitename"):
        clustering_config[shell] = {**clustering_config[shell], "width": 0.25}
    found = clusters_of_each_pattern(tmp_path)
    assert len(found["volume"]) > 1

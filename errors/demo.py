"""Realistic generated all_errors documents, for the demo and the benchmarks.

Pure functions (no Django): same seed, same document. About 6.8 steps and 31 cells
per workflow, so 5,000 workflows give ≈ 34k steps and ≈ 157k cells.
"""

import random

PWGS = ["HIG", "TOP", "SMP", "EXO", "B2G", "BPH", "SUS", "EGM", "TSG", "MUO", "JME", "BTV", "HIN"]
CAMPAIGNS = [
    "RunIISummer20UL18wmLHEGEN",
    "RunIISummer20UL17RECO",
    "RunIISummer20UL16MiniAODv2",
    "Run3Summer22EEGS",
    "Run3Summer23wmLHEGS",
    "Run3Summer22NanoAODv12",
    "RunIII2024Summer24GS",
    "RunIII2024Summer24DRPremix",
]
SITES = [
    "T1_US_FNAL", "T1_DE_KIT", "T1_FR_CCIN2P3", "T1_IT_CNAF", "T1_ES_PIC", "T1_UK_RAL", "T1_RU_JINR",
    "T2_CH_CERN", "T2_US_MIT", "T2_US_Nebraska", "T2_US_Purdue", "T2_US_Wisconsin", "T2_US_Caltech",
    "T2_US_Florida", "T2_US_UCSD", "T2_US_Vanderbilt", "T2_DE_DESY", "T2_DE_RWTH", "T2_FR_IPHC",
    "T2_FR_GRIF", "T2_IT_Legnaro", "T2_IT_Pisa", "T2_IT_Bari", "T2_IT_Rome", "T2_ES_CIEMAT",
    "T2_UK_London_IC", "T2_UK_SGrid_RALPP", "T2_BE_IIHE", "T2_CN_Beijing", "T2_IN_TIFR",
    "T2_BR_SPRACE", "T2_EE_Estonia", "T2_PL_Cyfronet", "T2_KR_KISTI", "T2_TW_NCHC", "T3_US_NERSC",
]  # fmt: skip
# Exit codes with rough weights: memory, file-open and stage-out problems dominate.
EXIT_CODES = {
    50660: 14, 8028: 10, 8021: 6, 8001: 8, 84: 6, 85: 5, 73: 3, 92: 4, 134: 4, 137: 5, 139: 3,
    8002: 3, 8004: 2, 11003: 3, 50513: 3, 50664: 4, 60307: 5, 60450: 3, 61202: 2, 71104: 4,
    71304: 3, 71305: 3, 71306: 2, 99109: 4, 99303: 3,
}  # fmt: skip
STEP_STATUSES = ["enabled"] * 8 + ["drain", "disabled"]


def _workflow_name(rng: random.Random, prep_id: str, acdc: int | None) -> str:
    stamp = f"{rng.randint(240101, 261124)}_{rng.randint(0, 235959):06d}_{rng.randint(1000, 9999)}"
    if acdc is None:
        return f"pdmvserv_task_{prep_id}__v1_T_{stamp}"
    return f"cmsunified_ACDC{acdc}_task_{prep_id}__v1_T_{stamp}"


def _steps(rng: random.Random, workflow: str, prep_id: str) -> list[str]:
    steps = []
    chain = [f"{prep_id}_{i}" for i in range(rng.choice([1, 1, 2, 2, 3, 3]))]
    path = f"/{workflow}"
    for task in chain:
        path = f"{path}/{task}"
        steps.append(path)
        steps.append(f"{path}/{task}MergeRAWSIMoutput")
        steps.append(f"{path}/{task}CleanupUnmergedRAWSIMoutput")
        if rng.random() < 0.4:
            steps.append(f"{path}/LogCollect")
    return steps


def generate_error_document(n_workflows: int, *, seed: int = 1) -> dict:
    """An all_errors document `{step: {exit code: {site: count}}}` for `n_workflows`
    workflows, about a fifth of them ACDCs of an original with the same prep ID."""
    rng = random.Random(seed)
    codes, weights = list(EXIT_CODES), list(EXIT_CODES.values())
    document: dict = {}
    originals: list[str] = []
    serial = 0
    for _ in range(n_workflows):
        if originals and rng.random() < 0.2:
            prep_id = rng.choice(originals)
            name = _workflow_name(rng, prep_id, acdc=rng.randint(0, 2))
        else:
            serial += 1
            prep_id = f"{rng.choice(PWGS)}-{rng.choice(CAMPAIGNS)}-{serial:05d}"
            originals.append(prep_id)
            name = _workflow_name(rng, prep_id, acdc=None)
        home_sites = rng.sample(SITES, rng.randint(3, 9))
        main_codes = rng.choices(codes, weights, k=2)
        for step in _steps(rng, name, prep_id):
            cells: dict = {}
            for _ in range(rng.choice([1, 1, 1, 1, 2, 2, 3])):
                code = rng.choice(main_codes) if rng.random() < 0.8 else rng.choices(codes, weights)[0]
                sites = cells.setdefault(str(code), {})
                for site in rng.sample(home_sites, min(len(home_sites), rng.randint(2, 5))):
                    sites[site] = int(rng.paretovariate(1.3)) + rng.randint(0, 3)
            document[step] = cells
    return document


def generate_site_status(*, seed: int = 1) -> dict:
    rng = random.Random(seed)
    return {site: rng.choice(STEP_STATUSES) for site in SITES}

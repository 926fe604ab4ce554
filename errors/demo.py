"""Realistic generated all_errors documents, for the demo and the benchmarks.

Pure functions (no Django): same seed, same document. About 6.8 steps and 31 cells
per workflow, so 5,000 workflows give ≈ 34k steps and ≈ 157k cells.
"""

import random
import zlib

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


# The demo's outside sources ---------------------------------------------------------------
#
# `generate_demo(...)` writes, from one seed, the all_errors document and what every other
# source says about the same workflows, in the real shapes of SOURCES.md: WMStats job
# detail, ReqMgr2 requests, ACDC server collections, the SSB site status and log-server
# messages. `workflows/demo_sources.py` serves them over HTTP for `make run`.

# A few hand-made workflows, always present, so every panel of the workflow page has
# something to show (the README's tour starts at SHOWCASE).
SHOWCASE_PREP_ID = "HIG-RunIII2024Summer24DRPremix-00042"
SHOWCASE = f"pdmvserv_task_{SHOWCASE_PREP_ID}__v1_T_250612_101500_4242"
SHOWCASE_ACDC = f"cmsunified_ACDC0_task_{SHOWCASE_PREP_ID}__v1_T_250619_083000_4243"
SHOWCASE_TASKS = [f"{SHOWCASE_PREP_ID}_0", f"{SHOWCASE_PREP_ID}_1"]
STEPCHAIN_PREP_ID = "SMP-Run3Summer23wmLHEGS-00017"
STEPCHAIN = f"pdmvserv_task_{STEPCHAIN_PREP_ID}__v1_T_250601_080000_1717"
# ReReco names do not follow pdmvserv_task_<prep id>: PrepID and Campaign come from ReqMgr2.
RERECO = "pdmvserv_Run2024F_JetMET1_ECALRatio_250605_120000_5555"
RERECO_ACDC = "cmsunified_ACDC0_Run2024F_JetMET1_ECALRatio_250611_093000_5556"
RERECO_PREP_ID = "ReReco-Run2024F-JetMET1-00003"
TOUR_WORKFLOWS = (SHOWCASE, SHOWCASE_ACDC, STEPCHAIN, RERECO, RERECO_ACDC)
# Site statuses the tour relies on: DESY drains and Pisa is disabled, and both hold
# failed files of SHOWCASE (shown red, left out of Auto, pre-checked for Ban).
FIXED_STATUSES = {
    "T1_US_FNAL": "enabled",
    "T2_CH_CERN": "enabled",
    "T2_DE_DESY": "drain",
    "T2_IT_Pisa": "disabled",
}
# An old ACDC collection names a storage host; config.demo.yml maps it with
# sources.storage_hosts. The other host is in no table, so it must be dropped.
STORAGE_HOSTS = {"cmssrm.fnal.gov": "T1_US_FNAL"}
UNMAPPED_STORAGE_HOST = "srm.unknown-storage.example.org"
# Submit failures live only under WMStats' "submitfailed".
SUBMIT_CODES = {71101, 71102, 71104, 99303}
LOG_MODULES = ["unified.assistor", "unified.checkor", "unified.recoveror", "unified.injector"]


def _showcase_errors() -> dict:
    first, second = (
        f"/{SHOWCASE}/{SHOWCASE_TASKS[0]}",
        f"/{SHOWCASE}/{SHOWCASE_TASKS[0]}/{SHOWCASE_TASKS[1]}",
    )
    stepchain = f"/{STEPCHAIN}/{STEPCHAIN_PREP_ID}_0"
    return {
        first: {
            "84": {"T2_CH_CERN": 7, "T1_US_FNAL": 3},
            "8001": {"T1_US_FNAL": 2},
            "50660": {"T2_DE_DESY": 5, "T2_CH_CERN": 0},  # Unified's zero cells
            "NotReported": {"T2_CH_CERN": 0},  # skipped files, no failure report
        },
        f"{first}/{SHOWCASE_TASKS[0]}MergeAODSIMoutput": {"85": {"T1_US_FNAL": 1}},
        f"{first}/LogCollect": {"60307": {"T2_CH_CERN": 1}},
        f"{first}/{SHOWCASE_TASKS[0]}CleanupUnmergedAODSIMoutput": {"60450": {"T2_CH_CERN": 1}},
        second: {"71104": {"T2_IT_Pisa": 4}, "8028": {"T1_US_FNAL": 2}, "NotReported": {"T1_US_FNAL": 0}},
        f"/{SHOWCASE_ACDC}/{SHOWCASE_TASKS[0]}": {"50660": {"T2_CH_CERN": 2}},
        stepchain: {"50660": {"T2_US_MIT": 6, "T2_US_Purdue": 2}, "8004": {"T2_US_MIT": 1}},
        f"{stepchain}/{STEPCHAIN_PREP_ID}_0MergeRAWSIMoutput": {"99109": {"T2_US_MIT": 1}},
        f"/{RERECO}/DataProcessing": {"8021": {"T1_DE_KIT": 3, "T1_UK_RAL": 2}, "85": {"T1_DE_KIT": 1}},
        f"/{RERECO}/DataProcessing/DataProcessingMergeAODoutput": {"99303": {"T1_DE_KIT": 1}},
        f"/{RERECO_ACDC}/DataProcessing": {"8021": {"T1_UK_RAL": 1}},
    }


def _root_file(rng: random.Random, workflow: str) -> str:
    era = workflow.split("_task_")[-1].split("-")[1] if "_task_" in workflow else "Run2024F"
    return (
        f"root://cms-xrd-global.cern.ch//store/mc/{era}/GluGluHToGG/AODSIM/"
        f"{rng.randint(100000, 999999)}/{rng.getrandbits(64):016X}.root"
    )


def _details(rng: random.Random, workflow: str, code: int, site: str, status: dict) -> tuple[str, str]:
    """(error type, log text) as cmsRun or the agent writes them for `code`; file names
    are xrootd URLs and memory figures explicit, so the procedures' regexes match."""
    if code in (84, 92, 8020, 8028):
        return (
            "Fatal Exception",
            f"An exception of category 'FileOpenError' occurred while\n   [0] Constructing the "
            f"EventProcessor\n   [1] Constructing input source of type PoolSource\nException Message:\n"
            f"Failed to open the file '{_root_file(rng, workflow)}'\n   Additional Info:\n"
            f"      [a] Input file {_root_file(rng, workflow)} could not be opened.",
        )
    if code in (85, 8021):
        return (
            "Fatal Exception",
            f"An exception of category 'FileReadError' occurred while\n   [0] Processing Event run: 1 "
            f"lumi: {rng.randint(1, 900)} event: {rng.randint(1, 10**6)}\nException Message:\n"
            f"Error reading file {_root_file(rng, workflow)}: R__unzip: error in header",
        )
    if code in (50660, 8004):
        limit = rng.choice([2000, 2500, 4000])
        return (
            "PerformanceKill",
            f"Job has exceeded maxRSS: {limit} MB. Job has RSS: {limit + rng.randint(50, 1500)} MB. "
            f"Killing it. (std::bad_alloc at {site})",
        )
    if code == 71104:
        return (
            "SubmitFailed",
            f"The job can run only at {site}, whose status is {status.get(site, 'unknown')}: "
            f"the only copy of the input is there",
        )
    if code == 99303:
        return "SubmitFailed", "Job report unavailable: JobReport.x.pkl was not found after the job ended"
    if code == 8001:
        return "CMSException", "An exception of category 'ProductNotFound' occurred: Principal::getByToken"
    return "WMAgentError", f"Exit code {code} at {site}: see the agent logs for the failing step"


def _pnn(site: str) -> str:
    """A storage name of `site`: T1 disks carry `_Disk` (RAL's `_ECHO_Disk`), T2s their own name."""
    if site == "T1_UK_RAL":
        return "T1_UK_RAL_ECHO_Disk"
    if site.startswith("T1_"):
        return f"{site}_Disk"
    return site


def _job_detail(rng, workflow: str, steps: dict, statuses: dict) -> dict:
    """WMStats job detail for one workflow: the same counts as all_errors, split into
    jobfailed / submitfailed, with samples (SHOWCASE's 8001 cell holds a 99999 sample)."""
    detail: dict = {}
    for step, codes in steps.items():
        for code, sites in codes.items():
            if code == "NotReported":
                continue  # the ACDC server's files without a failure report
            state = "submitfailed" if int(code) in SUBMIT_CODES else "jobfailed"
            for site, count in sites.items():
                if not count:
                    continue
                samples = []
                for _ in range(min(count, 2)):
                    error_type, details = _details(rng, workflow, int(code), site, statuses)
                    samples.append(
                        {
                            "errors": {
                                "cmsRun1": [{"type": error_type, "exitCode": int(code), "details": details}]
                            }
                        }
                    )
                if workflow == SHOWCASE and code == "8001":
                    samples.append(
                        {
                            "errors": {
                                "logArch1": [
                                    {
                                        "type": "LogArchiveFailure",
                                        "exitCode": 99999,
                                        "details": "Failure in the log archive step: "
                                        "stage-out to eoscms timed out",
                                    }
                                ]
                            }
                        }
                    )
                cell = {"errorCount": count, "samples": samples}
                detail.setdefault(step, {}).setdefault(state, {}).setdefault(code, {})[site] = cell
    return {"result": [{workflow: detail}] if detail else []}


# Most requests can be ACDC'd; some are still running (clone or special only) and a few are
# closed out or announced (nothing: the action form says why), so the guard-rails show.
_STATUS_SHARES = [
    ("running-closed", 12),
    ("completed", 4),
    ("running-open", 2),
    ("closed-out", 1),
    ("announced", 1),
]


def _demo_status(workflow: str) -> str:
    """ReqMgr2's RequestStatus of a demo request: the tour's are running-closed; the others by
    a hash of the name (not the generator's random stream, which the rest of the demo follows)."""
    if workflow in TOUR_WORKFLOWS:
        return "running-closed"
    slot = zlib.crc32(workflow.encode()) % sum(share for _, share in _STATUS_SHARES)
    for status, share in _STATUS_SHARES:
        if slot < share:
            return status
        slot -= share
    return "running-closed"


def _request(workflow: str, steps: list[str], prep_id: str, rng, *, original: str = "") -> dict:
    """ReqMgr2's request of `workflow` (TaskChain or StepChain by campaign; ReReco;
    Resubmission for ACDCs), its tasks named as in the step paths."""
    tasks = []
    for step in steps:
        task = step.split("/")[2] if len(step.split("/")) > 2 else ""
        if task and task not in tasks:
            tasks.append(task)
    for step in steps:
        for task in step.split("/")[3:]:
            if not any(word in task for word in ("Merge", "Cleanup", "LogCollect")) and task not in tasks:
                tasks.append(task)
    campaign = prep_id.split("-")[1] if prep_id.count("-") >= 2 else ""
    sites = sorted(set(FIXED_STATUSES) | set(rng.sample(SITES, 4)))
    year = 2025
    month, day = rng.randint(1, 10), rng.randint(1, 28)
    request = {
        "RequestName": workflow,
        "RequestDate": [year, month, day, rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)],
        "RequestStatus": _demo_status(workflow),
        "PrepID": prep_id,
        "Campaign": campaign,
        "Requestor": "pdmvserv",
        "SiteWhitelist": sites,
        "SiteBlacklist": [],
    }
    if original:
        request.update(RequestType="Resubmission", OriginalRequestName=original, Requestor="cmsunified")
        request["Memory"] = rng.choice([3000, 4000])
        request["Multicore"] = 1
    elif workflow == RERECO:
        request.update(RequestType="ReReco", Memory=3000, Multicore=4, Campaign="Run2024F")
    elif workflow == STEPCHAIN or "wmLHE" in campaign or "GS" in campaign.split("Summer")[-1]:
        request.update(RequestType="StepChain", StepChain=len(tasks), Multicore=4)
        request["Memory"] = {task: rng.choice([2000, 4000, 8000]) for task in tasks}
        for number, task in enumerate(tasks, 1):
            request[f"Step{number}"] = {"StepName": task, "GlobalTag": "140X_mcRun3_2024_realistic_v26"}
    else:
        request.update(RequestType="TaskChain", TaskChain=len(tasks))
        request["Memory"] = {task: rng.choice([2500, 4000, 6000]) for task in tasks}
        request["Multicore"] = {task: rng.choice([1, 4, 8]) for task in tasks}
        for number, task in enumerate(tasks, 1):
            request[f"Task{number}"] = {"TaskName": task, "KeepOutput": number == len(tasks)}
    if workflow == SHOWCASE:
        request["SiteWhitelist"] = sorted(FIXED_STATUSES)
    return request


def _acdc_rows(rng, workflow: str, steps: dict, request: dict) -> dict:
    """The ACDC server's byCollectionName answer: one document per failed fileset, file
    locations as storage names (plus tape, export and Tier-0 copies the Auto list drops)."""
    rows = []
    for step, codes in steps.items():
        if any(word in step.rsplit("/", 1)[-1] for word in ("LogCollect", "Cleanup")):
            continue
        sites = sorted({site for by_site in codes.values() for site in by_site})
        files = {}
        if request.get("RequestType") == "StepChain" and step.count("/") == 2:
            # Generated events, no input: run anywhere SiteWhitelist allows.
            files[f"MCFakeFile-{workflow}-{rng.getrandbits(32):08x}"] = {"locations": [], "events": 1000}
        else:
            for site in sites:
                locations = [_pnn(site)]
                if rng.random() < 0.3:
                    locations.append(rng.choice(["T0_CH_CERN_MSS", "T1_IT_CNAF_Export", "T1_US_FNAL_MSS"]))
                lfn = _root_file(rng, workflow).split("//", 2)[-1]
                files[f"/{lfn}"] = {"locations": locations, "events": rng.randint(100, 5000)}
        if workflow == SHOWCASE:
            files = _showcase_files(step)
        rows.append(
            {
                "id": f"{rng.getrandbits(128):032x}",
                "key": workflow,
                "value": None,
                "doc": {"collection_name": workflow, "fileset_name": step, "files": files},
            }
        )
    return {"total_rows": len(rows), "offset": 0, "rows": rows}


def _showcase_files(step: str) -> dict:
    store = "/store/mc/RunIII2024Summer24DRPremix/GluGluHToGG/AODSIM"
    if step.endswith(f"/{SHOWCASE_TASKS[1]}"):
        return {
            f"{store}/0/A1.root": {"locations": ["cmssrm.fnal.gov", "T2_IT_Pisa"], "events": 800},
            f"{store}/0/A2.root": {"locations": [UNMAPPED_STORAGE_HOST], "events": 700},
        }
    return {
        f"{store}/1/B1.root": {"locations": ["T1_US_FNAL_Disk", "T0_CH_CERN_MSS"], "events": 1200},
        f"{store}/1/B2.root": {"locations": ["T2_CH_CERN_ECHO_Disk", "T1_IT_CNAF_Export"], "events": 950},
        f"{store}/1/B3.root": {"locations": ["T2_DE_DESY"], "events": 400},
    }


def _log_messages(rng, document: dict, now) -> list[dict]:
    """Log-server documents (`_source` of the hits): what Unified's modules said about
    the workflows over the last week, newest last."""
    from datetime import timedelta

    by_workflow: dict[str, dict] = {}
    for step, codes in document.items():
        for code, sites in codes.items():
            total = sum(sites.values())
            counts = by_workflow.setdefault(step.split("/")[1], {})
            counts[code] = counts.get(code, 0) + total
    messages = []
    for workflow, counts in by_workflow.items():
        code = max(counts, key=counts.get)
        texts = {
            "unified.injector": f"{workflow} injected, status running-open",
            "unified.checkor": f"{workflow} is not completed: {sum(counts.values())} failures, "
            f"main exit code {code}",
            "unified.assistor": f"{workflow} put in assistance-manual: exit code {code} needs a look",
            "unified.recoveror": f"{workflow} recovery suggested for exit code {code}: ACDC",
        }
        said = LOG_MODULES if workflow in TOUR_WORKFLOWS else rng.sample(LOG_MODULES, rng.randint(2, 4))
        for module in said:
            moment = now - timedelta(minutes=rng.randint(1, 7 * 24 * 60))
            messages.append(
                {
                    "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "module": module,
                    "message": texts[module],
                }
            )
    messages.sort(key=lambda message: message["timestamp"])
    return messages


def generate_demo(n_workflows: int, *, seed: int = 1, now=None) -> dict:
    """Every demo document, consistent with each other: `all_errors`, `site_status` (SSB
    shape), and per workflow `job_detail`, `requests` (ReqMgr2's answer) and `acdc` (the
    ACDC server's answer), plus `logs` (log-server documents). Same seed and `now`, same
    documents."""
    from datetime import UTC, datetime, timedelta

    now = now or datetime.now(UTC)
    rng = random.Random(seed)
    document = {**_showcase_errors(), **generate_error_document(n_workflows, seed=seed)}
    # Unified's quirks on some random tasks too: zero cells and NotReported with count 0.
    for step in list(document)[len(_showcase_errors()) :: 7]:
        codes = document[step]
        site = next(iter(next(iter(codes.values()))), "T2_CH_CERN")
        codes.setdefault("NotReported", {})[site] = 0
        codes.setdefault(str(rng.choice(list(EXIT_CODES))), {}).setdefault(rng.choice(SITES), 0)

    statuses = {**generate_site_status(seed=seed), **FIXED_STATUSES}
    steps_of: dict[str, dict] = {}
    for step, codes in document.items():
        steps_of.setdefault(step.split("/")[1], {})[step] = codes
    originals = {
        name.split("_task_")[1].split("__")[0]: name for name in steps_of if name.startswith("pdmvserv_task_")
    }
    job_detail, requests, acdc = {}, {}, {}
    for workflow, steps in steps_of.items():
        if workflow in (RERECO, RERECO_ACDC):
            prep_id = RERECO_PREP_ID
        else:
            prep_id = workflow.split("_task_")[-1].split("__")[0]
        original = ""
        if workflow == RERECO_ACDC:
            original = RERECO
        elif workflow.startswith("cmsunified_ACDC"):
            original = originals.get(prep_id, "")
        request = _request(workflow, list(steps), prep_id, rng, original=original)
        requests[workflow] = {"result": [{workflow: request}]}
        job_detail[workflow] = _job_detail(rng, workflow, steps, statuses)
        acdc[workflow] = _acdc_rows(rng, workflow, steps, request)
    # An ACDC is requested after its original (a week later here).
    for workflow, answer in requests.items():
        resubmission = answer["result"][0][workflow]
        original = requests.get(resubmission.get("OriginalRequestName", ""))
        if original:
            date = datetime(*original["result"][0][resubmission["OriginalRequestName"]]["RequestDate"])
            resubmission["RequestDate"] = list((date + timedelta(days=7)).timetuple()[:6])
    site_status = {
        "csvdata": [
            {
                "VOName": site,
                "Status": status,
                "COLORNAME": {"enabled": "green", "drain": "yellow"}.get(status, "red"),
                "Time": now.strftime("%Y-%m-%dT%H:%M:%S"),
            }
            for site, status in sorted(statuses.items())
        ]
    }
    return {
        "all_errors": document,
        "site_status": site_status,
        "job_detail": job_detail,
        "requests": requests,
        "acdc": acdc,
        "logs": _log_messages(rng, document, now),
    }

"""A local HTTP server standing in for cmsweb and the log server in tests.

`FakeSources.routes` maps a path (without query) to (status, JSON-able body) or to a
callable(handler) -> (status, body); every request is recorded in `requests`.
"""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import pytest


class FakeSources:
    def __init__(self):
        self.routes: dict = {}
        self.requests: list[dict] = []
        self.delay_seconds = 0.0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fake.requests.append(
                    {
                        "path": unquote(parts.path),
                        "query": parse_qs(parts.query),
                        "body": json.loads(body) if body else None,
                    }
                )
                if fake.delay_seconds:
                    time.sleep(fake.delay_seconds)
                route = fake.routes.get(unquote(parts.path))
                status, answer = route(self) if callable(route) else (route or (404, {"error": "no route"}))
                payload = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def closed_port_url() -> str:
    """A URL on which nothing listens (the "source is down" case)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def empty_cache():
    """Source answers live in Django's cache, which outlives a test: start empty."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def fake_sources():
    with FakeSources() as fake:
        yield fake


def configure(settings, **urls) -> None:
    """Point config.yml's `sources` at test URLs (a copy: other tests keep the defaults)."""
    wwt = {**settings.WWT, "sources": {**settings.WWT["sources"], **urls}}
    settings.WWT = wwt


# Recorded answers in the shapes of SOURCES.md -------------------------------------------

WORKFLOW = "pdmvserv_task_HIG-RunIISummer20UL18wmLHEGEN-00123__v1_T_240115_123456_1234"
STEP = f"/{WORKFLOW}/HIG-RunIISummer20UL18wmLHEGEN-00123_0"


def reqmgr2_answer(name: str = WORKFLOW) -> dict:
    return {
        "result": [
            {
                name: {
                    "RequestName": name,
                    "RequestType": "TaskChain",
                    "RequestDate": [2024, 1, 15, 12, 34, 56],
                    "RequestStatus": "running-closed",
                    "PrepID": "HIG-RunIISummer20UL18wmLHEGEN-00123",
                    "Campaign": "RunIISummer20UL18wmLHEGEN",
                    "Requestor": "pdmvserv",
                    "Memory": 2300,
                    "Multicore": 1,
                    "SiteWhitelist": ["T1_US_FNAL", "T2_CH_CERN"],
                    "SiteBlacklist": [],
                    "TaskChain": 2,
                    "Task1": {"TaskName": "HIG-RunIISummer20UL18wmLHEGEN-00123_0"},
                    "Task2": {"TaskName": "HIG-RunIISummer20UL18wmLHEGEN-00123_1"},
                    "SomethingWeIgnore": {"a": 1},
                }
            }
        ]
    }


# A file as cmsRun names it in a log: an xrootd URL (the procedures' regex extracts it).
ROOT_FILE = "root://cms-xrd-global.cern.ch//store/mc/RunIISummer20UL18/HIG/GEN/00000/ABCDEF.root"


def jobdetail_answer(name: str = WORKFLOW, step: str = STEP) -> dict:
    return {
        "result": [
            {
                name: {
                    step: {
                        "jobfailed": {
                            "84": {
                                "T2_CH_CERN": {
                                    "errorCount": 3,
                                    "samples": [
                                        {
                                            "errors": {
                                                "cmsRun1": [
                                                    {
                                                        "type": "Fatal Exception",
                                                        "exitCode": 84,
                                                        "details": f"An exception of category 'FileOpenError' "
                                                        f"occurred. Failed to open the file '{ROOT_FILE}' <b>x</b>",
                                                    }
                                                ]
                                            }
                                        }
                                    ],
                                }
                            },
                            "50660": {
                                "T1_US_FNAL": {
                                    "errorCount": 2,
                                    "samples": [
                                        {
                                            "errors": {
                                                "cmsRun1": [
                                                    {
                                                        "type": "PerformanceKill",
                                                        "exitCode": 50660,
                                                        "details": "Job has exceeded maxRSS: 2300 MB. "
                                                        "Job has RSS: 3125.4 MB. Killing it.",
                                                    }
                                                ]
                                            }
                                        }
                                    ],
                                }
                            },
                            "notacode": {"T1_US_FNAL": {}},
                        }
                    }
                }
            }
        ]
    }


def logs_answer() -> dict:
    return {
        "took": 3,
        "hits": {
            "total": {"value": 2, "relation": "eq"},
            "hits": [
                {
                    "_source": {
                        "timestamp": "2026-11-25T10:00:00Z",
                        "module": "unified.assistor",
                        "message": f"{WORKFLOW} needs <b>ACDC</b>",
                    }
                },
                {
                    "_source": {
                        "timestamp": "2026-11-25T09:00:00Z",
                        "module": "unified.checkor",
                        "message": "older message",
                    }
                },
            ],
        },
    }


# Issue 12: the producers' real shapes (SOURCES.md), written by hand -----------------------

ACDC_VIEW = "/couchdb/acdcserver/_design/ACDC/_view/byCollectionName"


def acdc_answer(workflow: str, files_per_task: dict[str, dict[str, list]]) -> dict:
    """The ACDC server's byCollectionName view: one row (collection document) per task,
    {task: {file name: [storage locations]}} → rows with fileset_name and files."""
    return {
        "total_rows": len(files_per_task),
        "offset": 0,
        "rows": [
            {
                "id": f"acdc-{number}",
                "key": workflow,
                "value": None,
                "doc": {
                    "_id": f"acdc-{number}",
                    "collection_name": workflow,
                    "collection_type": "ACDC.CollectionTypes.DataCollection",
                    "fileset_name": f"/{workflow}/{task}",
                    "owner_user": "cmsunified",
                    "files": {
                        name: {"locations": locations, "events": 1000, "lumis": [], "merged": "1"}
                        for name, locations in files.items()
                    },
                },
            }
            for number, (task, files) in enumerate(files_per_task.items())
        ],
    }


def ssb_answer(rows: list[tuple[str, str | None, str | None]]) -> dict:
    """CMS SSB's site-status answer: {"csvdata": [{"VOName", "Status", "COLORNAME", ...}]};
    a None leaves the key out."""
    csvdata = []
    for site, status, colour in rows:
        row = {"VOName": site, "Time": "2026-11-28T06:00:00", "EndTime": "2026-11-28T07:00:00"}
        if status is not None:
            row["Status"] = status
        if colour is not None:
            row["COLORNAME"] = colour
        csvdata.append(row)
    return {"csvdata": csvdata}


def request_answer(name: str, **fields) -> dict:
    """ReqMgr2's {"result": [{name: {...}}]} with the given fields (and a few we ignore)."""
    document = {"RequestName": name, "RequestDate": [2026, 11, 20, 8, 0, 0], "Requestor": "pdmvserv"}
    document.update(fields)
    document.setdefault("_id", name)
    document.setdefault("RequestTransition", [{"Status": "new", "UpdateTime": 1763625600}])
    return {"result": [{name: document}]}


def reqmgr2_route(answers: dict[str, dict]):
    """A ReqMgr2 route answering ?name=<workflow> from {workflow: request fields}; an unknown
    name gets {"result": []}, as ReqMgr2 does."""

    def route(handler):
        name = parse_qs(urlsplit(handler.path).query).get("name", [""])[0]
        return (200, request_answer(name, **answers[name]) if name in answers else {"result": []})

    return route


def refresh_stored_sources(*workflows):
    """What the refresh job does before a page shows what the sources say (pages never ask
    them): store the site status and, for each workflow, ReqMgr2's parameters and the ACDC
    server's recovery locations. Returns the workflows as stored now."""
    from workflows import services
    from workflows.models import Workflow

    services.refresh_site_statuses()
    ids = [workflow.id for workflow in workflows]
    services.refresh_request_parameters(ids)
    services.refresh_recovery_locations(ids)
    stored = {workflow.id: workflow for workflow in Workflow.objects.filter(id__in=ids)}
    return [stored[i] for i in ids]

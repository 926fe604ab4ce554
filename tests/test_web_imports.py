"""The web process stays light: importing the URL conf (what every gunicorn worker does
before serving a page) loads neither scikit-learn nor numpy, and neither does serving the
workflow pages (the worker stores their suggestions and the fit's axes); only the clustering
jobs and the rare page that places a workflow new since the last fit load them."""

import subprocess
import sys

from django.conf import settings

HEAVY = ("sklearn", "numpy", "scipy", "joblib")


def test_importing_the_urls_loads_no_numeric_library():
    code = (
        "import sys, django; django.setup(); import wwt_project.urls, wwt_project.wsgi; "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={"DJANGO_SETTINGS_MODULE": "wwt_project.settings", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"imported by the URL conf: {done.stdout.strip()}"


SERVE_PAGES = """
import sys, django
django.setup()
from django.test import Client
from workflows.models import Workflow
from clustering.models import ClusterMembership, StoredSuggestion
names = list(Workflow.objects.filter(stored_suggestion__action__gt="").values_list("name", flat=True)[:3])
assert names and ClusterMembership.objects.filter(workflow__name__in=names).count() == len(names), names
client = Client(HTTP_HOST="localhost")
urls = [f"/seeworkflow?workflow={name}" for name in names]
urls += [f"/seeworkflow?workflow={names[0]}&all_similar=1", f"/seeworkflow?workflow={names[0]}&prefill=suggestion"]
urls += ["/", "/globalerror?pievar=errorcode", "/sites"]
for url in urls:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert url.startswith("/seeworkflow") is False or b"Suggested action:" in response.content, url
print(",".join(m for m in HEAVY if m in sys.modules))
"""


def test_serving_the_workflow_pages_loads_no_numeric_library(tmp_path):
    """The worker (here `load_demo_data`: it clusters and trains) stores what the pages need;
    a fresh web process then serves workflow pages with their suggestion and ranked similar
    workflows, and the other main pages, without importing scikit-learn, numpy or scipy."""
    env = {
        "DJANGO_SETTINGS_MODULE": "wwt_project.settings",
        "PATH": "/usr/bin:/bin",
        "WWT_VAR_DIR": str(tmp_path),
        "WWT_CONFIG": str(settings.BASE_DIR / "config.demo.yml"),
    }

    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, *args], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True,
            timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout.strip()

    run("manage.py", "migrate", "--noinput")
    run("manage.py", "load_demo_data", "--workflows", "40", "--days", "2")
    imported = run("-c", f"HEAVY = {HEAVY!r}\n" + SERVE_PAGES).splitlines()[-1:]
    assert imported in ([], [""]), f"imported while serving pages: {imported}"

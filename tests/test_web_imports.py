"""The web process stays light: importing the URL conf (what every gunicorn worker does
before serving a page) loads neither scikit-learn nor numpy; only the clustering jobs and the
rare page that reads a stored model do."""

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

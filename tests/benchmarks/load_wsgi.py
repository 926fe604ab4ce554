"""`make load`'s gunicorn app: WWT as in production, plus `/bare`, the floor getaction is
measured against: a plain view returning the bytes getaction?days=15 served when it was first
called, served by the same gunicorn workers, middleware and settings."""

from django.conf import settings
from django.http import HttpResponse
from django.urls import include, path

from wwt_project.wsgi import application  # noqa: F401 -- sets Django up; what gunicorn serves

_BYTES: list[bytes] = []


def bare(request):
    from actions.selectors import served_actions_json

    if not _BYTES:
        _BYTES.append(served_actions_json(days=15).encode())
    return HttpResponse(_BYTES[0], content_type="application/json")


urlpatterns = [path("bare", bare), path("", include("wwt_project.urls"))]
# This module's URLs (/bare and WWT's) answer the requests.
settings.ROOT_URLCONF = __name__

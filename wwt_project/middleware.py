"""Project-wide middleware: answers when the database is unreachable, and security headers."""

import json
import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

# Unified's endpoints have a fixed contract, even when the database is down.
GETACTION_PATHS = {"/getaction", "/api/getaction"}
REPORTACTION_PATHS = {"/reportaction", "/api/reportaction"}
DATABASE_DOWN = "the database is unreachable; try again in a few minutes"


def database_unavailable_response(request) -> HttpResponse:
    """A 503 in the shape the caller expects: plain text for getaction, the five-key JSON for
    reportaction, JSON for the API, else a short page (rendered without the database)."""
    path = request.path
    if path in GETACTION_PATHS:
        return HttpResponse(DATABASE_DOWN + "\n", status=503, content_type="text/plain; charset=utf-8")
    if path in REPORTACTION_PATHS:
        reply = {
            "valid_key": False,
            "valid_format": False,
            "success": [],
            "already_reported": [],
            "does_not_exist": [],
        }
        return HttpResponse(json.dumps(reply), status=503, content_type="application/json")
    if path.startswith("/api/"):
        return HttpResponse(
            json.dumps({"detail": DATABASE_DOWN}), status=503, content_type="application/json"
        )
    # No request: the context processors (which query the database) must not run.
    return HttpResponse(render_to_string("503.html"), status=503)


class DatabaseUnavailableMiddleware:
    """A database that is down or too slow (connect or statement timeout) gives a 503, never
    Django's HTML 500, so Unified's client reads the answer it expects and can retry."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError | InterfaceError):
            logger.error("database unavailable on %s: %s", request.path, exception)
            return database_unavailable_response(request)
        return None


class RejectNulInQueryMiddleware:
    """A NUL character in the query string names nothing and PostgreSQL cannot store or compare
    it in text: a clear 400 (in getaction's plain text, JSON under /api/) before any view runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any(
            "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
        ):
            return bad_request_response(request, "a query parameter holds a NUL character")
        return self.get_response(request)


def bad_request_response(request, message: str) -> HttpResponse:
    if request.path in GETACTION_PATHS:
        return HttpResponse(message + "\n", status=400, content_type="text/plain; charset=utf-8")
    if request.path.startswith("/api/") or request.path in REPORTACTION_PATHS:
        return HttpResponse(json.dumps({"detail": message}), status=400, content_type="application/json")
    return HttpResponse(render_to_string("400.html", {"message": message}, request=request), status=400)


def server_error(request):
    """handler500: a database error raised outside a view (in a middleware) still gets its 503."""
    from django.views.defaults import server_error as django_server_error

    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        return database_unavailable_response(request)
    return django_server_error(request)


# Scripts and styles come from our own static files only (no inline script; Redoc, the API
# docs page, sets inline styles and runs a worker from a blob, so those two are allowed).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer", "camera", "geolocation", "gyroscope", "magnetometer",
        "microphone", "payment", "usb",
    )
)  # fmt: skip


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response

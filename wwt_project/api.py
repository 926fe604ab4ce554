"""DRF's exception handler, also answering an oversized or over-long request in JSON."""

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from rest_framework.exceptions import ParseError
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    # Django raises these while DRF reads the body; unhandled they become an HTML 400 page.
    if isinstance(exc, RequestDataTooBig | TooManyFieldsSent):
        exc = ParseError(f"request body refused: {exc}")
    return drf_exception_handler(exc, context)

"""The JSON API's one exception handler (settings REST_FRAMEWORK["EXCEPTION_HANDLER"]): every
error of a DRF view that does not answer its own way is a JSON object.

- DRF's own errors (400 parse, 401, 403, 404, 405, 415 …): DRF's {"detail": ...} replies.
- `FieldErrors` (the apps' "bad input, nothing changed", e.g. actions' ActionRejected):
  400 with {where: [messages]}, the shape of a serializer's errors.
- A body over Django's limits: 400 {"detail": ...} instead of Django's HTML page.
- A database that is down: left to DatabaseUnavailableMiddleware (503, JSON under /api/).
- Anything else: logged, and 500 {"detail": "server error"} (no traceback leaves the server).
Unified's fixed-contract endpoints (getaction, reportaction) override `handle_exception`,
so their plain-text and five-key replies never come through here.
"""

import logging

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import InterfaceError, OperationalError
from rest_framework.exceptions import ParseError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class FieldErrors(Exception):
    """Bad input, nothing changed: `errors` maps where ("parameters.Task1.memory") to messages.
    Raised by services below the API; the handler answers it 400 with `errors` as the body."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(self.messages))

    @property
    def messages(self) -> list[str]:
        return [message for messages in self.errors.values() for message in messages]


def exception_handler(exc, context):
    if isinstance(exc, FieldErrors):
        return Response(exc.errors, status=400)
    # Django raises these while DRF reads the body; unhandled they become an HTML 400 page.
    if isinstance(exc, RequestDataTooBig | TooManyFieldsSent):
        exc = ParseError(f"request body refused: {exc}")
    response = drf_exception_handler(exc, context)
    if response is not None or isinstance(exc, OperationalError | InterfaceError):
        return response
    view = context.get("view")
    logger.exception("unexpected error in %s", type(view).__name__ if view else "an API view", exc_info=exc)
    return Response({"detail": "server error"}, status=500)

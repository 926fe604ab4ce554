"""DRF views: Unified's getaction / reportaction (a fixed contract) and action submission as JSON.

Unified's client sends no session, cookie or CSRF token and follows no redirect; it reads any
JSON object from getaction as {workflow: action}, so getaction's errors are plain text, and it
locks itself unless reportaction always answers the five-key JSON object.
"""

import hmac
import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import APIException, ParseError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsVerifiedOperator

from . import selectors, served, services
from .serializers import (
    ActionSubmitSerializer,
    ReportReplySerializer,
    ReportRequestSerializer,
    StoredActionSerializer,
    WithdrawReplySerializer,
    WithdrawRequestSerializer,
)
from .validation import is_text

_NAMES = {"type": "array", "items": {"type": "string"}}
# {workflow: served action}: a map, which a serializer cannot describe, so the schema is written out.
SERVED_ACTIONS_SCHEMA = {
    "type": "object",
    "additionalProperties": {
        "type": "object",
        "properties": {
            "Action": {"type": "string", "enum": ["acdc", "recovery", "clone", "special"]},
            "Parameters": {"type": "object", "description": "per task for acdc/recovery; flat otherwise"},
            "Reasons": _NAMES,
            "Reason": {"type": "string", "description": "the long reasons joined"},
            "user": {"type": "string"},
            "ACDCs": _NAMES,
        },
        "required": ["Action", "Parameters", "Reasons", "Reason", "user", "ACDCs"],
    },
}


class AlwaysJSON(BaseContentNegotiation):
    """Ignore the client's Accept header: these endpoints answer one format whatever is asked."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class NestingSafeJSONParser(JSONParser):
    """DRF's JSON parser, answering a body nested too deeply for Python's decoder (which raises
    RecursionError, not ValueError) with a 400 like any other bad JSON."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None


def key_is_valid(key) -> bool:
    """Unified's passphrase, compared in constant time; no configured key accepts nothing,
    and neither does a key that is not valid text."""
    expected = settings.WWT_ACTIONS_KEY
    if not expected or not is_text(key):
        return False
    # surrogatepass: a key read from the environment may carry surrogate escapes.
    return hmac.compare_digest(key.encode(), expected.encode("utf-8", "surrogatepass"))


def _plain(message: str, status: int) -> HttpResponse:
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def _integer(request, name: str) -> int:
    raw = request.GET.get(name, "0").strip() or "0"
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None


def _json_body(request):
    """The decoded JSON body, or raise ValueError (also for a body over the upload limit, one
    that is not UTF-8, or one nested too deeply for the parser)."""
    try:
        raw = request.body
    except RequestDataTooBig as exc:
        raise ValueError("request body too large") from exc
    if not raw.strip():
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except RecursionError as exc:
        raise ValueError("request body nested too deeply") from exc


class UnifiedView(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []
    renderer_classes = [JSONRenderer]
    content_negotiation_class = AlwaysJSON
    metadata_class = None  # OPTIONS would answer a JSON object describing the view


class GetActionView(UnifiedView):
    """The actions Unified should carry out."""

    parser_classes: list = []  # the body Unified sends is read by hand, or ignored

    def dispatch(self, request, *args, **kwargs):
        # A poll skips DRF's request wrapping, negotiation and its (empty) authentication,
        # permission and throttle passes, which cost as much as the rest of the poll: `get`
        # reads only the query string and the raw body. Its headers are still DRF's (Allow);
        # every other method is answered by DRF as before.
        if request.method not in ("GET", "HEAD"):
            return super().dispatch(request, *args, **kwargs)
        self.args, self.kwargs = args, kwargs
        self.request = request
        self.headers = self.default_response_headers
        try:
            response = self.get(request)
        except APIException as exc:
            response = self.handle_exception(exc)
        return self.finalize_response(request, response)

    def handle_exception(self, exc):
        # A JSON error object would be read as workflows: errors are plain text.
        if isinstance(exc, APIException):
            return _plain(str(exc.detail), exc.status_code)
        raise exc

    @extend_schema(
        summary="Actions for Unified",
        description="A JSON object {workflow: action}. Errors are plain text, never a JSON object. "
        'Unified\'s passphrase is required as a JSON body {"key": ...} (Content-Type: application/json), '
        "unless the operators set actions.getaction_open; a missing or wrong key is a plain-text 403.",
        parameters=[
            OpenApiParameter(
                "days",
                {"type": "integer", "minimum": 0, "maximum": selectors.MAX_DAYS, "default": 0},
                description=f"Submitted in the last N days (at most {selectors.MAX_DAYS}); 0 = no age limit",
            ),
            OpenApiParameter(
                "acted",
                {"type": "integer", "default": 0},
                description="0 pending (default), >= 1 reported, < 0 all",
            ),
        ],
        responses={
            (200, "application/json"): OpenApiResponse(
                SERVED_ACTIONS_SCHEMA, description="keyed by workflow name"
            ),
            (400, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="bad parameter (plain text)"),
            (403, "text/plain"): OpenApiResponse(
                OpenApiTypes.STR, description="missing or wrong key (plain text)"
            ),
            (503, "text/plain"): OpenApiResponse(
                OpenApiTypes.STR, description="database unreachable (plain text)"
            ),
        },
    )
    def get(self, request):
        try:
            days, acted = _integer(request, "days"), _integer(request, "acted")
        except ValueError as exc:
            return _plain(str(exc), 400)
        if problem := selectors.days_problem(days):
            return _plain(problem, 400)
        # Closed unless the operators chose otherwise: the actions name workflows and operators.
        if not settings.WWT["actions"]["getaction_open"]:
            try:
                body = _json_body(request)
            except ValueError:
                return _plain('the body must be JSON {"key": ...}', 400)
            if not isinstance(body, dict) or not key_is_valid(body.get("key")):
                return _plain("a valid key is required", 403)
        # Built once per version of the actions (actions/served.py): a poll reads one short row.
        reply = served.served_actions_bytes(days=days, acted=acted)
        return HttpResponse(reply, content_type="application/json")


def _report_reply(**values) -> dict:
    reply = {
        "valid_key": False,
        "valid_format": False,
        "success": [],
        "already_reported": [],
        "does_not_exist": [],
    }
    reply.update(values)
    return reply


class ReportActionView(UnifiedView):
    """Unified reports the workflows it acted on."""

    parser_classes: list = []

    def handle_exception(self, exc):
        # Whatever goes wrong in the request, the client gets the object it checks.
        if isinstance(exc, APIException):
            return Response(_report_reply(), status=exc.status_code)
        raise exc

    @extend_schema(
        summary="Report actions done",
        # The body is read by hand (no parser), so its one media type is named here.
        request={"application/json": ReportRequestSerializer},
        responses={
            200: ReportReplySerializer,
            400: OpenApiResponse(ReportReplySerializer, description="unparsable body"),
            503: OpenApiResponse(ReportReplySerializer, description="database unreachable"),
        },
        examples=[
            OpenApiExample(
                "report", value={"key": "passphrase", "workflows": ["<workflow>"]}, request_only=True
            )
        ],
    )
    def post(self, request):
        try:
            body = _json_body(request)
        except ValueError:  # UnicodeDecodeError included
            return Response(_report_reply(), status=400)
        if not isinstance(body, dict):
            return Response(_report_reply(), status=400)
        valid_key = key_is_valid(body.get("key"))
        workflows = body.get("workflows")
        # A name that is not valid text (a lone surrogate) cannot be a workflow: the whole report
        # is refused as malformed, like a name that is not a string, and nothing is marked.
        valid_format = isinstance(workflows, list) and all(is_text(name) for name in workflows)
        # As the original: a parsed body always answers 200, the five keys saying what was wrong
        # (only an unparsable body is a 400); Unified reads the keys, not the status.
        if not (valid_key and valid_format):
            return Response(_report_reply(valid_key=valid_key, valid_format=valid_format))
        result = services.mark_reported(workflows)
        return Response(
            _report_reply(
                valid_key=True,
                valid_format=True,
                success=result.success,
                already_reported=result.already_reported,
                does_not_exist=result.does_not_exist,
            )
        )


class SubmitActionView(APIView):
    """Submit an action for one or more workflows (verified operators; session or API token)."""

    # Token first, so an anonymous client is told (401, WWW-Authenticate) how to authenticate.
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsVerifiedOperator]
    # JSON in and out only (no form bodies, no browsable HTML), as the schema says.
    parser_classes = [NestingSafeJSONParser]
    renderer_classes = [JSONRenderer]

    @extend_schema(
        summary="Submit an action",
        request=ActionSubmitSerializer,
        responses={201: StoredActionSerializer(many=True), 400: OpenApiTypes.OBJECT},
        examples=[
            OpenApiExample(
                "acdc for all steps",
                request_only=True,
                value={
                    "workflows": ["<workflow>"],
                    "action": "acdc",
                    "parameters": {"AllSteps": {"memory": 4000, "xrootd": "enabled"}},
                    "reasons": [{"short": "memory", "long": "Jobs ran out of memory."}],
                },
            )
        ],
    )
    def post(self, request):
        shape = ActionSubmitSerializer(data=request.data)
        if not shape.is_valid():
            return Response(shape.errors, status=400)
        # ActionRejected (bad input, nothing stored) is answered 400 by the API's exception handler.
        actions = services.submit_action(user=request.user, **shape.validated_data)
        stored = [
            {
                "workflow": action.workflow.name,
                "submitted_at": action.submitted_at,
                **action.served_entry(),
            }
            for action in actions
        ]
        return Response(StoredActionSerializer(stored, many=True).data, status=201)


_WITHDRAW_RESPONSES = {
    200: WithdrawReplySerializer,
    400: OpenApiResponse(OpenApiTypes.OBJECT, description='no reason given: {"reason": [message]}'),
    404: OpenApiResponse(OpenApiTypes.OBJECT, description="no such workflow, or nothing pending"),
    409: OpenApiResponse(OpenApiTypes.OBJECT, description="already reported done by Unified"),
}
_WITHDRAW_DESCRIPTION = (
    "getaction stops serving it at once; the history keeps who withdrew it and why (a reason is "
    "required). An action Unified already reported done cannot be withdrawn (409)."
)


class _WithdrawView(APIView):
    """Withdraw a workflow's pending action (verified operators; session or API token)."""

    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsVerifiedOperator]
    parser_classes = [NestingSafeJSONParser]
    renderer_classes = [JSONRenderer]

    def withdraw(self, request, workflow: str, reason):
        # ActionRejected (no reason) is answered 400 by the API's exception handler.
        result = services.withdraw_actions([workflow], user=request.user, reason=reason)
        if refusal := result.refusal(workflow):
            status, message = refusal
            return Response({"detail": message}, status=status)
        return Response(
            WithdrawReplySerializer(
                {
                    "workflow": workflow,
                    "action": result.withdrawn[workflow],
                    "withdrawn_at": result.withdrawn_at,
                    "withdrawn_by": request.user.username,
                    "reason": result.reason,
                }
            ).data
        )


class WithdrawActionView(_WithdrawView):
    """`DELETE /api/actions/<workflow>/?reason=...` (or the reason in a JSON body)."""

    @extend_schema(
        summary="Withdraw a pending action",
        description=_WITHDRAW_DESCRIPTION
        + ' The reason goes in the query (`?reason=`) or in a JSON body {"reason": ...}.',
        parameters=[OpenApiParameter("reason", str, description="why it is withdrawn (required)")],
        responses=_WITHDRAW_RESPONSES,
    )
    def delete(self, request, workflow: str):
        body = request.data if isinstance(request.data, dict) else {}
        return self.withdraw(request, workflow, body.get("reason", request.query_params.get("reason")))


class WithdrawActionPostView(_WithdrawView):
    """`POST /api/actions/<workflow>/withdraw/` with {"reason": ...}: the same, for clients that
    cannot send DELETE."""

    @extend_schema(
        summary="Withdraw a pending action (POST)",
        description=_WITHDRAW_DESCRIPTION,
        request=WithdrawRequestSerializer,
        responses=_WITHDRAW_RESPONSES,
    )
    def post(self, request, workflow: str):
        body = request.data if isinstance(request.data, dict) else {}
        return self.withdraw(request, workflow, body.get("reason"))

"""DRF serializers: the outer shape of API requests and replies (documented in the OpenAPI schema).

Only the shape is checked here; the rules about actions live in `actions.validation`, shared
with the form and the importer.
"""

from rest_framework import serializers


class ReasonSerializer(serializers.Serializer):
    short = serializers.CharField(allow_blank=True, required=False, default="", trim_whitespace=True)
    long = serializers.CharField(allow_blank=True, required=False, default="", trim_whitespace=True)


class ActionSubmitSerializer(serializers.Serializer):
    workflows = serializers.ListField(child=serializers.CharField(), min_length=1)
    action = serializers.ChoiceField(
        choices=["acdc", "recovery", "clone", "special"], help_text="recovery only when enabled in config.yml"
    )
    parameters = serializers.DictField(
        help_text="As served by getaction before omission rules; acdc/recovery may use an AllSteps "
        "block (expanded into every task) and per-block `ban` lists (Auto sites less these)."
    )
    reasons = ReasonSerializer(many=True, min_length=1)
    tell_requester = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Mail each workflow's ReqMgr2 requester the action and the long reasons once stored; "
        "omitted or null: the action's default (actions.tell_requester.default_for, clone by default).",
    )


class StoredActionSerializer(serializers.Serializer):
    """One stored action: its workflow's entry in getaction, with the workflow and time."""

    workflow = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    Action = serializers.CharField()
    Parameters = serializers.JSONField()
    Reasons = serializers.ListField(child=serializers.CharField())
    Reason = serializers.CharField()
    user = serializers.CharField()
    ACDCs = serializers.ListField(child=serializers.CharField())


class WithdrawRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="why the action is withdrawn (required; kept in the history)")


class WithdrawReplySerializer(serializers.Serializer):
    workflow = serializers.CharField()
    action = serializers.CharField()
    withdrawn_at = serializers.DateTimeField()
    withdrawn_by = serializers.CharField()
    reason = serializers.CharField()


class ReportRequestSerializer(serializers.Serializer):
    key = serializers.CharField()
    workflows = serializers.ListField(child=serializers.CharField())


class ReportReplySerializer(serializers.Serializer):
    valid_key = serializers.BooleanField()
    valid_format = serializers.BooleanField()
    success = serializers.ListField(child=serializers.CharField())
    already_reported = serializers.ListField(child=serializers.CharField())
    does_not_exist = serializers.ListField(child=serializers.CharField())

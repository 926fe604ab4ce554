from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from . import services
from .models import Action, ActionSubmission, Reason
from .validation import ActionRejected, ValidatedAction, validate_action


class ActedFilter(admin.SimpleListFilter):
    """Whether Unified has reported the action done."""

    title = "acted"
    parameter_name = "acted"

    def lookups(self, request, model_admin):
        return [("0", "pending"), ("1", "reported")]

    def queryset(self, request, queryset):
        return queryset.acted(int(self.value())) if self.value() in ("0", "1") else queryset


class ActionAdminForm(forms.ModelForm):
    """An edit is a submission made by the admin: validated by the validator the form and the
    API use (Parameters taken in the API shape: an AllSteps block, blanks for unchanged,
    cores), then stored by the same service, `services.store_action`: a history row and batch,
    pending again, served JSON re-rendered. Anything Unified cannot act on is a form error and
    nothing is saved. Which workflow, who, when and whether Unified reported it are read-only."""

    # Where a validator error is shown: its place starts with one of these.
    FIELD_OF_PLACE = {
        "action": "action",
        "workflows": None,  # the workflow is read-only: the error is the form's
        "parameters": "parameters",
        "reasons": "reasons",
    }

    class Meta:
        model = Action
        fields = ["action", "parameters", "reasons"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # {} is a valid clone and [] deserves the validator's own message: it decides.
        self.fields["parameters"].required = False
        self.fields["reasons"].required = False
        self.validated: ValidatedAction | None = None

    def clean(self):
        cleaned = super().clean()
        workflow, kind = self.instance.workflow, cleaned.get("action")
        if kind is None or "parameters" not in cleaned or "reasons" not in cleaned:
            return cleaned  # the field errors already say what is wrong
        try:
            validated = validate_action(
                workflows=[workflow.name],
                action=kind,
                parameters=cleaned["parameters"],
                reasons=cleaned["reasons"],
            )
        except ActionRejected as exc:
            for place, messages in exc.errors.items():
                self.add_error(self.FIELD_OF_PLACE.get(place.split(".")[0]), messages)
            return cleaned
        cleaned["parameters"] = validated.parameters[workflow.name]
        cleaned["reasons"] = validated.reasons
        stored = (self.initial.get("action"), self.initial.get("parameters"), self.initial.get("reasons"))
        # Saving without a change must not make a reported action pending again.
        if (kind, cleaned["parameters"], cleaned["reasons"]) != stored:
            self.validated = validated
        return cleaned


@admin.register(Action)
class ActionAdmin(admin.ModelAdmin):
    """Edits are submissions by the admin (see ActionAdminForm); actions are added by operators
    (the form or the API), not here, since an action needs a submitter and a submission time."""

    form = ActionAdminForm
    list_display = ["workflow", "action", "user", "recorded_user", "submitted_at", "reported_at"]
    list_filter = ["action", ActedFilter, "user", "submitted_at"]
    list_select_related = ["workflow", "user"]
    search_fields = ["workflow__name"]
    date_hierarchy = "submitted_at"
    fields = [
        "workflow",
        "action",
        "parameters",
        "reasons",
        "user",
        "submitted_at",
        "reported_at",
        "acdcs",
        "submission",
    ]
    readonly_fields = ["workflow", "user", "submitted_at", "reported_at", "acdcs", "submission"]
    actions = ["withdraw_selected"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Withdraw the selected pending actions (asks for a reason)")
    def withdraw_selected(self, request, queryset):
        """First a page asking why; then the same service as the form and the API, in one
        transaction. Reported actions are left as they are, and named."""
        names = list(queryset.order_by("workflow__name").values_list("workflow__name", flat=True))
        reason = request.POST.get("reason", "")
        error = ""
        if "apply" in request.POST:
            try:
                result = services.withdraw_actions(names, user=request.user, reason=reason)
            except ActionRejected as exc:
                error = "; ".join(exc.messages)
            else:
                if result.withdrawn:
                    self.message_user(request, f"Withdrawn: {len(result.withdrawn)} pending action(s).")
                refused = [result.refusal(name)[1] for name in names if name not in result.withdrawn]
                for message in refused:
                    self.message_user(request, message, level=messages.WARNING)
                return None
        return TemplateResponse(
            request,
            "admin/actions/action/withdraw.html",
            {
                **self.admin_site.each_context(request),
                "title": "Withdraw actions",
                "opts": self.model._meta,
                "queryset": queryset.select_related("workflow"),
                "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
                "reason": reason,
                "error": error,
            },
            status=400 if error else 200,
        )

    def save_model(self, request, obj, form, change):
        if form.validated is None:
            return  # nothing changed: nothing stored, nothing served anew
        # The same write as a submission; it updates this very row (one action per workflow).
        services.store_action(form.validated, user=request.user)
        obj.refresh_from_db()


@admin.register(ActionSubmission)
class ActionSubmissionAdmin(admin.ModelAdmin):
    """The history is a record of what was sent: read-only."""

    list_display = [
        "workflow",
        "action",
        "user",
        "recorded_user",
        "submitted_at",
        "reported_at",
        "requester_notice",
        "requester_notified_at",
        "withdrawn_at",
        "withdrawn_by",
    ]
    list_filter = ["action", ActedFilter, "requester_notice", "user", "submitted_at"]
    list_select_related = ["workflow", "user", "withdrawn_by"]
    search_fields = ["workflow__name", "batch"]
    date_hierarchy = "submitted_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Reason)
class ReasonAdmin(admin.ModelAdmin):
    list_display = ["short", "long", "created_by", "created_at"]
    search_fields = ["short", "long"]
    list_filter = ["created_by"]

from django.contrib import admin

from .models import Action, ActionSubmission, Reason


class ActedFilter(admin.SimpleListFilter):
    """Whether Unified has reported the action done."""

    title = "acted"
    parameter_name = "acted"

    def lookups(self, request, model_admin):
        return [("0", "pending"), ("1", "reported")]

    def queryset(self, request, queryset):
        if self.value() == "0":
            return queryset.filter(reported_at__isnull=True)
        if self.value() == "1":
            return queryset.filter(reported_at__isnull=False)
        return queryset


@admin.register(Action)
class ActionAdmin(admin.ModelAdmin):
    list_display = ["workflow", "action", "user", "submitted_at", "reported_at"]
    list_filter = ["action", ActedFilter, "user", "submitted_at"]
    list_select_related = ["workflow", "user"]
    search_fields = ["workflow__name"]
    date_hierarchy = "submitted_at"
    raw_id_fields = ["workflow", "submission"]
    readonly_fields = ["submitted_at"]


@admin.register(ActionSubmission)
class ActionSubmissionAdmin(admin.ModelAdmin):
    """The history is a record of what was sent: read-only."""

    list_display = ["workflow", "action", "user", "submitted_at", "reported_at"]
    list_filter = ["action", ActedFilter, "user", "submitted_at"]
    list_select_related = ["workflow", "user"]
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

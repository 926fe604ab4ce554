from django.contrib import admin

from workflows.exit_codes import exit_code_label

from .forms import ProcedureAdminForm
from .models import ErrorCount, ErrorHistory, ErrorImport, LogSample, Procedure


class ExitCodeFilter(admin.SimpleListFilter):
    """Filter by exit code, named as the pages name them (-1 is NotReported)."""

    title = "exit code"
    parameter_name = "exit_code"

    def lookups(self, request, model_admin):
        codes = model_admin.model.objects.order_by("exit_code").values_list("exit_code", flat=True).distinct()
        return [(str(code), exit_code_label(code)) for code in codes]

    def queryset(self, request, queryset):
        try:
            return queryset.filter(exit_code=int(self.value())) if self.value() else queryset
        except ValueError:  # a hand-edited URL
            return queryset.none()


@admin.display(description="exit code", ordering="exit_code")
def shown_exit_code(obj):
    return exit_code_label(obj.exit_code)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Error data comes from ingestion only; admins look, they do not edit."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ErrorCount)
class ErrorCountAdmin(ReadOnlyAdmin):
    list_display = ["step", shown_exit_code, "site", "count"]
    list_filter = [ExitCodeFilter]
    search_fields = ["step__name", "site"]
    list_select_related = ["step"]
    show_full_result_count = False


@admin.register(ErrorHistory)
class ErrorHistoryAdmin(ReadOnlyAdmin):
    list_display = ["bucket", "step", shown_exit_code, "site", "count"]
    list_filter = ["bucket"]
    search_fields = ["step__name", "site"]
    list_select_related = ["step"]
    date_hierarchy = "bucket"
    show_full_result_count = False


@admin.register(ErrorImport)
class ErrorImportAdmin(ReadOnlyAdmin):
    list_display = [
        "finished_at",
        "kind",
        "source",
        "workflows",
        "cells",
        "created",
        "updated",
        "deleted",
        "bad_entries",
        "dropped_steps",
    ]
    list_filter = ["kind"]


@admin.register(LogSample)
class LogSampleAdmin(ReadOnlyAdmin):
    list_display = ["step", shown_exit_code, "site", "sample_exit_code", "error_type", "fetched_at"]
    list_filter = [ExitCodeFilter]
    search_fields = ["step__name", "details"]
    list_select_related = ["step"]


@admin.register(Procedure)
class ProcedureAdmin(admin.ModelAdmin):
    form = ProcedureAdminForm
    list_display = [shown_exit_code, "cause", "match_expression"]
    search_fields = ["exit_code", "cause"]

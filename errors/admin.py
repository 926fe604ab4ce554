from django.contrib import admin

from .forms import ProcedureAdminForm
from .models import ErrorCount, ErrorHistory, ErrorImport, Explanation, Procedure


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
    list_display = ["step", "exit_code", "site", "count"]
    list_filter = ["exit_code"]
    search_fields = ["step__name", "site"]
    list_select_related = ["step"]
    show_full_result_count = False


@admin.register(ErrorHistory)
class ErrorHistoryAdmin(ReadOnlyAdmin):
    list_display = ["bucket", "step", "exit_code", "site", "count"]
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
    ]
    list_filter = ["kind"]


@admin.register(Explanation)
class ExplanationAdmin(ReadOnlyAdmin):
    list_display = ["step", "exit_code", "site", "error_type", "fetched_at"]
    list_filter = ["exit_code"]
    search_fields = ["step__name", "details"]
    list_select_related = ["step"]


@admin.register(Procedure)
class ProcedureAdmin(admin.ModelAdmin):
    form = ProcedureAdminForm
    list_display = ["exit_code", "cause", "match_expression"]
    search_fields = ["exit_code", "cause"]

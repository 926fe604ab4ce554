from django.contrib import admin

from .models import Site, Step, Workflow


class ReadOnlyAdmin(admin.ModelAdmin):
    """Workflows and steps come from ingestion only (SPEC: read-only in admin): admins
    list, search, filter and open them, but add, change and delete nothing."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting a workflow would cascade to its steps, errors and history.
        return False


class StepInline(admin.TabularInline):
    model = Step
    fields = ["name"]
    readonly_fields = ["name"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Workflow)
class WorkflowAdmin(ReadOnlyAdmin):
    list_display = ["name", "prep_id", "campaign", "is_acdc", "request_type", "request_status", "first_seen"]
    list_filter = ["is_acdc", "request_type", "campaign"]
    search_fields = ["name", "prep_id"]
    inlines = [StepInline]


@admin.register(Step)
class StepAdmin(ReadOnlyAdmin):
    list_display = ["name", "workflow"]
    search_fields = ["name"]
    list_select_related = ["workflow"]


@admin.register(Site)
class SiteAdmin(ReadOnlyAdmin):
    """Sites come from error ingestion and the site-status refresh."""

    list_display = ["name", "status", "status_checked_at"]
    list_filter = ["status"]
    search_fields = ["name"]

from django.contrib import admin

from .models import Step, Workflow


class StepInline(admin.TabularInline):
    model = Step
    fields = ["name"]
    readonly_fields = ["name"]
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    list_display = ["name", "prep_id", "campaign", "is_acdc", "request_type", "request_status", "first_seen"]
    list_filter = ["is_acdc", "request_type", "campaign"]
    search_fields = ["name", "prep_id"]
    raw_id_fields = ["original"]
    readonly_fields = ["first_seen"]
    inlines = [StepInline]


@admin.register(Step)
class StepAdmin(admin.ModelAdmin):
    list_display = ["name", "workflow"]
    search_fields = ["name"]
    list_select_related = ["workflow"]
    raw_id_fields = ["workflow"]

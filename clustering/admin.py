from django.contrib import admin

from .models import ClusterMembership, Predictor, ReclusteringJob


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written by the jobs only; admins look, and may delete."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ReclusteringJob)
class ReclusteringJobAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "state",
        "requested_at",
        "requested_by",
        "finished_at",
        "n_clusters",
        "current_samples",
    ]
    list_filter = ["state", "requested_at"]
    list_select_related = ["requested_by"]
    search_fields = ["message"]


@admin.register(ClusterMembership)
class ClusterMembershipAdmin(ReadOnlyAdmin):
    list_display = ["workflow", "cluster", "clustering", "placement"]
    list_filter = ["placement", "cluster"]
    list_select_related = ["workflow", "clustering"]
    search_fields = ["workflow__name"]
    raw_id_fields = ["workflow", "clustering"]


@admin.register(Predictor)
class PredictorAdmin(ReadOnlyAdmin):
    list_display = ["id", "trained_at", "samples", "model_file"]
    list_filter = ["trained_at"]

from django.apps import AppConfig


class ClusteringConfig(AppConfig):
    name = "clustering"

    def ready(self):
        from errors.caches import warm_on_new_snapshot

        from .prediction import queue_suggestions

        # Each new snapshot gets its suggestions computed by the worker, ahead of the pages.
        warm_on_new_snapshot(queue_suggestions)

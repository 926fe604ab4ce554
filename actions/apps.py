from django.apps import AppConfig


class ActionsConfig(AppConfig):
    name = "actions"

    def ready(self):
        from workflows import workflow_sets

        from .models import Action

        # The error pages' "without a pending action" filter (errors may not import actions).
        workflow_sets.provide(
            workflow_sets.PENDING_ACTION, lambda: Action.objects.acted(0).values("workflow_id")
        )

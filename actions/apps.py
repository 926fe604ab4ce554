from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class ActionsConfig(AppConfig):
    name = "actions"

    def ready(self):
        from workflows import workflow_sets

        from .models import Action, ActionQuerySet, forget_served_actions

        def forget_after_save(sender, **kwargs):
            forget_served_actions()

        def forget_after_delete(sender, origin=None, **kwargs):
            # A queryset delete forgets once for all its rows (ActionQuerySet.delete); one
            # action deleted, or actions cascading from deleted workflows, forget here.
            if not isinstance(origin, ActionQuerySet):
                forget_served_actions()

        # What getaction serves changes with every saved or deleted action, whoever writes
        # it (the admin, a cascade): its cached replies must go in the same transaction.
        post_save.connect(forget_after_save, sender=Action, dispatch_uid="actions.forget_after_save")
        post_delete.connect(forget_after_delete, sender=Action, dispatch_uid="actions.forget_after_delete")

        # The error pages' "without a pending action" filter (errors may not import actions).
        workflow_sets.provide(
            workflow_sets.PENDING_ACTION, lambda: Action.objects.acted(0).values("workflow_id")
        )

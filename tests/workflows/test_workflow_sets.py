"""workflows.workflow_sets: sets of workflows an app above names for an app beside it."""

import pytest
from django.utils import timezone

from actions.models import Action
from tests.factories import WorkflowFactory
from workflows import workflow_sets


@pytest.mark.django_db
def test_actions_gives_the_workflows_with_a_pending_action():
    pending, reported, none = WorkflowFactory(), WorkflowFactory(), WorkflowFactory()
    now = timezone.now()
    Action.objects.create(workflow=pending, action="acdc", submitted_at=now)
    Action.objects.create(workflow=reported, action="acdc", submitted_at=now, reported_at=now)
    ids = set(workflow_sets.workflow_ids(workflow_sets.PENDING_ACTION).values_list("workflow_id", flat=True))
    assert ids == {pending.id} and none.id not in ids


def test_a_set_no_app_gives_is_a_clear_lookup_error():
    with pytest.raises(LookupError, match="no installed app gives the workflow set 'nothing'"):
        workflow_sets.workflow_ids("nothing")

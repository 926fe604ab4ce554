"""Past actions for the demo, so the action predictor has something to learn from, the
workflow page shows a suggestion from the start, and /actions/ and getaction have something to
show: each workflow's submission is also its current action, most reported done by Unified, a
few still pending (some for more than a day). Used by `manage.py load_demo_data` only.
"""

import random
from datetime import datetime, timedelta

from django.utils import timezone

from workflows.models import Workflow

from .models import Action, ActionSubmission

# What operators usually do about a main exit code (the procedures table, in short).
FILE_CODES = {84, 85, 92, 8020, 8021, 8028}
MEMORY_CODES = {50660, 8004, 134, 137, 139}
WALLCLOCK_CODES = {71304, 71305, 71306, 99109, 60307, 60450}
STRONG_CODES = {8001, 8002, 99303, 73}


def _action_for(exit_code: int, task: str, rng: random.Random) -> tuple[str, dict]:
    if exit_code in FILE_CODES:
        return "acdc", {task: {"xrootd": "enabled"}}
    if exit_code in MEMORY_CODES:
        return "acdc", {task: {"memory": rng.choice([4000, 6000, 8000])}}
    if exit_code in WALLCLOCK_CODES:
        return "acdc", {task: {"splitting": rng.choice(["2x", "3x"])}}
    if exit_code in STRONG_CODES:
        return "special", {"action": "on-hold"}
    return "clone", {"memory": 4000}


# Enough to train on, few enough that training at load time takes seconds, not minutes.
MAX_DEMO_SUBMISSIONS = 80
# Of those, the current actions Unified has not acted on yet: recent ones, and late ones.
DEMO_PENDING, DEMO_LATE = 6, 3
DEMO_OPERATOR = "demo-operator"


def create_demo_submissions(
    main_errors: dict[int, tuple[int, str]], *, seed: int = 1, days: int = 7, now: datetime | None = None
) -> int:
    """One past submission for each of at most MAX_DEMO_SUBMISSIONS workflows of
    `main_errors` ({workflow id: (main exit code, task path of that error)}), the action an
    operator would choose for that code, made on one of the last `days` days. Returns the
    number of submissions made."""
    rng = random.Random(seed)
    now = now or timezone.now()
    chosen = sorted(main_errors)
    chosen = sorted(rng.sample(chosen, min(len(chosen), MAX_DEMO_SUBMISSIONS)))
    submissions = []
    for workflow_id in chosen:
        exit_code, task = main_errors[workflow_id]
        action, parameters = _action_for(exit_code, task, rng)
        submitted_at = now - timedelta(days=rng.randint(1, max(1, days - 1)), hours=rng.randint(0, 12))
        submissions.append(
            ActionSubmission(
                workflow_id=workflow_id,
                action=action,
                parameters=parameters,
                reasons=[{"short": f"demo: {exit_code}", "long": "generated with the demo data"}],
                recorded_user=DEMO_OPERATOR,
                submitted_at=submitted_at,
                reported_at=submitted_at + timedelta(minutes=30),
            )
        )
    for number, submission in enumerate(
        rng.sample(submissions, min(len(submissions), DEMO_PENDING + DEMO_LATE))
    ):
        submission.reported_at = None
        if number < DEMO_PENDING:  # submitted minutes ago: Unified has not polled yet
            submission.submitted_at = now - timedelta(minutes=rng.randint(2, 50))
    submissions = ActionSubmission.objects.bulk_create(submissions)
    _current_actions(submissions)
    return len(submissions)


def _current_actions(submissions: list[ActionSubmission]) -> None:
    names = dict(
        Workflow.objects.filter(pk__in=[s.workflow_id for s in submissions]).values_list("pk", "name")
    )
    actions = []
    for submission in submissions:
        action = Action(
            workflow_id=submission.workflow_id,
            action=submission.action,
            parameters=submission.parameters,
            reasons=submission.reasons,
            recorded_user=submission.recorded_user,
            submitted_at=submission.submitted_at,
            reported_at=submission.reported_at,
            submission=submission,
        )
        action.render_served(username=submission.recorded_user, workflow_name=names[submission.workflow_id])
        actions.append(action)
    Action.objects.bulk_create(actions)

"""A synthetic action history where the action follows the errors (tests and benchmark).

Each workflow fails mostly with one exit code; operators answer that code with a fixed
action (and parameters) most of the time and with a random one otherwise.
"""

import random
from datetime import timedelta

from django.utils import timezone

from actions.models import ActionSubmission
from errors.models import ErrorHistory
from workflows.models import Step, Workflow

SITES = ["T1_US_FNAL", "T2_CH_CERN", "T2_US_MIT", "T2_DE_DESY", "T1_IT_CNAF", "T2_FR_GRIF"]
NOISE_CODES = [84, 85, 92, 134, 8001, 60450]
# dominant exit code -> (action, parameters)
RULES = {
    50660: ("acdc", {"Task1": {"memory": 8000, "sites": ["T2_CH_CERN"]}}),
    8028: ("acdc", {"Task1": {"xrootd": "enabled", "sites": ["T1_US_FNAL"]}}),
    71304: ("clone", {"memory": 4000, "splitting": "2x", "comment": ""}),
    99109: ("special", {"action": "on-hold", "other": ""}),
}


def make_action_history(n_workflows: int, *, seed: int = 7, follow: float = 0.9, prefix: str = "syn") -> None:
    """Create `n_workflows` workflows, each with a history snapshot an hour before one
    submitted action; the action follows the dominant exit code with probability `follow`."""
    rng = random.Random(seed)
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    workflows = Workflow.objects.bulk_create(
        [Workflow(name=f"{prefix}_task_{i:06d}") for i in range(n_workflows)]
    )
    steps = Step.objects.bulk_create([Step(workflow=w, name=f"/{w.name}/Task1") for w in workflows])
    history, submissions = [], []
    codes = list(RULES)
    for i, (workflow, step) in enumerate(zip(workflows, steps, strict=True)):
        submitted_at = now - timedelta(days=rng.randint(1, 60), hours=rng.randint(0, 23))
        bucket = submitted_at.replace(minute=0) - timedelta(hours=1)
        dominant = codes[i % len(codes)]
        home = rng.sample(SITES, 2)
        cells = {(dominant, site): rng.randint(20, 120) for site in home}
        for _ in range(rng.randint(0, 3)):
            cells[(rng.choice(NOISE_CODES), rng.choice(SITES))] = rng.randint(1, 6)
        history += [
            ErrorHistory(step=step, exit_code=code, site=site, count=count, bucket=bucket)
            for (code, site), count in cells.items()
        ]
        rule = dominant if rng.random() < follow else rng.choice(codes)
        action, parameters = RULES[rule]
        submissions.append(
            ActionSubmission(
                workflow=workflow, action=action, parameters=parameters, submitted_at=submitted_at
            )
        )
    ErrorHistory.objects.bulk_create(history, batch_size=5000)
    ActionSubmission.objects.bulk_create(submissions, batch_size=5000)

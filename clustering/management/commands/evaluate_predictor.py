from django.core.management.base import BaseCommand, CommandError

from clustering import prediction
from clustering.exceptions import ClusteringError


class Command(BaseCommand):
    help = "Train on part of the submitted actions and report accuracy on the rest vs the majority class."

    def add_arguments(self, parser):
        parser.add_argument("--test-fraction", type=float, default=0.25, help="share held out (default 0.25)")
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, test_fraction=0.25, seed=0, **options):
        if not 0 < test_fraction < 1:
            raise CommandError(f"--test-fraction must be between 0 and 1, got {test_fraction}")
        try:
            report = prediction.evaluate_predictor(test_fraction=test_fraction, seed=seed)
        except ClusteringError as exc:
            raise CommandError(str(exc)) from exc
        first = next(iter(report.values()))
        self.stdout.write(f"held out {first['test']} of {first['train'] + first['test']} submitted actions")
        self.stdout.write(f"{'target':<10} {'model':<20} {'accuracy':>8} {'baseline':>8}")
        for target, row in report.items():
            self.stdout.write(
                f"{target:<10} {row['model']:<20} {row['accuracy']:>8.3f} {row['baseline']:>8.3f}"
            )

from django.core.management.base import BaseCommand, CommandError

from clustering import prediction
from clustering.exceptions import ClusteringError
from wwt_project.progress import stage_bar


class Command(BaseCommand):
    help = "Train the action classifier on the submitted actions and the errors they answered."

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, no_progress=False, **options):
        with stage_bar(self.stderr, len(prediction.TARGETS), "training", disable=no_progress) as progress:
            try:
                predictor = prediction.train_predictor(progress=progress)
            except ClusteringError as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"trained on {predictor.samples} submitted actions"))
        for target, score in predictor.scores.items():
            tried = ", ".join(f"{name} {value:.3f}" for name, value in score["cv_accuracy"].items())
            self.stdout.write(
                f"{target}: kept {score['model']} (cross-validated accuracy: {tried or 'not enough data'}; "
                f"majority class {score['baseline']:.3f})"
            )

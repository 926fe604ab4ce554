from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from actions.demo import DEMO_LATE, DEMO_PENDING, create_demo_submissions
from clustering.exceptions import ClusteringError
from clustering.jobs import recluster_workflows
from clustering.prediction import train_predictor
from errors import demo
from errors.demo_loader import load_demo_errors
from errors.models import ErrorImport
from errors.selectors.workflow import main_errors


class Command(BaseCommand):
    help = (
        "Load generated demo data (errors, history, past actions, and the documents the demo's "
        "fake sources serve) unless data is already there."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workflows", type=int, default=300)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--days", type=int, default=7, help="days of history to generate")
        parser.add_argument("--force", action="store_true", help="load even if data is already present")

    def handle(self, *args, workflows, seed, days, force, **options):
        directory = Path(settings.VAR_DIR) / "demo"
        if ErrorImport.objects.exists() and not force:
            self.stdout.write("data already present; demo data not loaded (use --force to load anyway)")
            if not (directory / "sources").is_dir():
                self.stdout.write(
                    "var/demo/sources/ is missing: the demo's sources answer nothing until --force"
                )
            return
        report = load_demo_errors(n_workflows=workflows, seed=seed, days=days, directory=directory)
        self.stdout.write(self.style.SUCCESS(f"demo data in {directory}: {report.summary_line()}"))
        # Past actions on workflows other than the tour's, so the predictor can be trained
        # and the workflow pages show a suggestion from the start.
        made = create_demo_submissions(
            main_errors(exclude_workflows=demo.TOUR_WORKFLOWS), seed=seed, days=days
        )
        pending = DEMO_PENDING + DEMO_LATE
        self.stdout.write(f"past actions: {made}, of which {pending} still pending for Unified")
        # Cluster and train once now, so the demo's workflow pages list similar workflows
        # and a suggestion before the daily schedules first run.
        try:
            job = recluster_workflows()
            self.stdout.write(f"clustered: {job.message}")
            predictor = train_predictor()
            self.stdout.write(f"predictor trained on {predictor.samples} past actions")
        except ClusteringError as exc:
            self.stderr.write(f"demo data not clustered or predictor not trained: {exc}")

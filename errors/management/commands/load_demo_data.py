from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from clustering.services import ClusteringError, recluster_workflows
from errors import services
from errors.models import ErrorImport


class Command(BaseCommand):
    help = "Load generated demo data (errors, history, site status) unless data is already there."

    def add_arguments(self, parser):
        parser.add_argument("--workflows", type=int, default=300)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--days", type=int, default=7, help="days of history to generate")
        parser.add_argument("--force", action="store_true", help="load even if data is already present")

    def handle(self, *args, workflows, seed, days, force, **options):
        if ErrorImport.objects.exists() and not force:
            self.stdout.write("data already present; demo data not loaded (use --force to load anyway)")
            return
        directory = Path(settings.VAR_DIR) / "demo"
        report = services.load_demo_data(n_workflows=workflows, seed=seed, days=days, directory=directory)
        self.stdout.write(self.style.SUCCESS(f"demo data in {directory}: {report.summary_line()}"))
        # Cluster once now, so the demo's workflow pages list similar workflows before the
        # daily schedule first runs.
        try:
            job = recluster_workflows()
        except ClusteringError as exc:
            self.stderr.write(f"demo data not clustered: {exc}")
        else:
            self.stdout.write(f"clustered: {job.message}")

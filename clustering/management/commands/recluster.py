from django.core.management.base import BaseCommand, CommandError

from clustering import jobs
from wwt_project.progress import stage_bar


class Command(BaseCommand):
    help = "Refit the workflow clusters on the history and the current errors."

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, no_progress=False, **options):
        with stage_bar(self.stderr, len(jobs.STAGES), "reclustering", disable=no_progress) as progress:
            try:
                job = jobs.recluster_workflows(progress=progress)
            except jobs.ClusteringError as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"reclustering {job.pk}: {job.message} ({job.seconds:.1f} s)"))

from django.core.management.base import BaseCommand, CommandError

from errors import ingestion
from wwt_project.progress import PhaseBars


class Command(BaseCommand):
    help = (
        "Replace the current error snapshot with an all_errors JSON document (file path or URL), "
        "then refresh what depends on it, as the scheduled refresh does."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "source", nargs="?", help="path or URL (default: sources.all_errors in config.yml)"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, source=None, no_progress=False, **options):
        with PhaseBars(self.stderr, disable=no_progress) as progress:
            try:
                summary = ingestion.refresh_current_errors(source, progress=progress)
            except ingestion.IngestError as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(summary["summary_line"]))

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from errors import services


class Command(BaseCommand):
    help = "Replace the current error snapshot with an all_errors JSON document (file path or URL)."

    def add_arguments(self, parser):
        parser.add_argument(
            "source", nargs="?", help="path or URL (default: sources.all_errors in config.yml)"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, source=None, no_progress=False, **options):
        with tqdm(desc="storing cells", unit="cell", disable=no_progress, file=self.stderr) as bar:

            def progress(done, total):
                bar.total = total
                bar.update(done - bar.n)

            try:
                report = services.ingest_current_errors(source, progress=progress)
            except services.IngestError as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(report.summary_line()))

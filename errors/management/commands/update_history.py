from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from errors import history
from errors.ingestion import IngestError
from wwt_project.progress import PhaseBars


class Command(BaseCommand):
    help = "Append error counts to the history: the current snapshot, or the given documents."

    def add_arguments(self, parser):
        parser.add_argument("sources", nargs="*", help="paths or URLs of all_errors documents")
        parser.add_argument("--at", help="ISO time the counts belong to (default: now)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, sources=(), at=None, no_progress=False, **options):
        moment = None
        if at:
            try:
                moment = datetime.fromisoformat(at)
            except ValueError as exc:
                raise CommandError(
                    f"--at must be an ISO date/time such as 2026-11-25T10:00, got {at!r}"
                ) from exc
            if timezone.is_naive(moment):
                moment = moment.replace(tzinfo=UTC)
        with PhaseBars(self.stderr, disable=no_progress) as progress:
            try:
                reports = history.update_history(list(sources), at=moment, progress=progress)
            except IngestError as exc:
                raise CommandError(str(exc)) from exc
        for report in reports:
            self.stdout.write(self.style.SUCCESS(report.summary_line()))

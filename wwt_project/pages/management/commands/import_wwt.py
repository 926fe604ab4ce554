"""`manage.py import_wwt`: move an installation of the original tool (WorkflowWebTools) here."""

from contextlib import nullcontext
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from actions import legacy_import as actions_import
from errors import legacy_import as history_import
from errors.ingestion import IngestError
from errors.selectors.sites import sites_with_errors
from workflows import selectors as workflow_selectors
from workflows import services as workflow_services
from wwt_project.legacy import LegacyStoreError
from wwt_project.progress import PhaseBars


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(
            f"--history-at must be an ISO date/time such as 2021-06-30T12:00, got {value!r}"
        ) from exc
    return moment.replace(tzinfo=UTC) if timezone.is_naive(moment) else moment


class Command(BaseCommand):
    help = (
        "Import the original tool's stores: its history database, its reasons database and its "
        "actions (mongoexport JSON). One transaction per store; running it again adds nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--history", metavar="FILE", help="the history SQLite file (table workflows)")
        parser.add_argument("--reasons", metavar="FILE", help="the reasons SQLite file (table reasons)")
        parser.add_argument(
            "--actions", metavar="FILE", help="the actions collection as mongoexport writes it"
        )
        parser.add_argument(
            "--history-at", metavar="TIME", help="ISO time of the history snapshot (default: the file's time)"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="report what would be imported, change nothing"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, history=None, reasons=None, actions=None, history_at=None, **options):
        if not (history or reasons or actions):
            raise CommandError("give at least one of --history, --reasons, --actions")
        at = _moment(history_at) if history_at else None
        dry_run = options["dry_run"]
        failures: list[str] = []
        # A dry run imports every store for real in one transaction rolled back at the end, so
        # the actions see the steps and sites the history would bring, as a real run would.
        everything = transaction.atomic() if dry_run else nullcontext()  # else one transaction per store
        with everything, PhaseBars(self.stderr, disable=options["no_progress"]) as progress:
            # Order matters: actions map their sites to those the history names, expand AllSteps
            # into the steps it brings, and find their reasons' short texts among the reasons.
            if history:
                self._run(failures, dry_run, history_import.import_history, history, at=at, progress=progress)
            if reasons:
                self._run(failures, dry_run, actions_import.import_reasons, reasons)
            if actions:
                workflow_services.refresh_site_statuses()  # a command may ask; pages read the stored
                known_sites = sites_with_errors() | set(workflow_selectors.site_statuses())
                self._run(
                    failures,
                    dry_run,
                    actions_import.import_actions,
                    actions,
                    known_sites=known_sites,
                    progress=progress,
                )
            if dry_run:
                transaction.set_rollback(True)
        if failures:
            raise CommandError("\n".join(failures))

    def _run(self, failures: list[str], dry_run: bool, importer, path: str, **options) -> None:
        try:
            summary = importer(path, **options)
        except (LegacyStoreError, IngestError) as exc:
            failures.append(f"{exc}; nothing of this store was imported")
            return
        summary.dry_run = dry_run
        for line in summary.lines():
            self.stdout.write(line)

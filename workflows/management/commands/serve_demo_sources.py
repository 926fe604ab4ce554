from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from workflows.demo_sources import make_server


class Command(BaseCommand):
    help = (
        "Serve the demo's generated source documents (WMStats job detail, ReqMgr2, ACDC server, "
        "site status, log search) on 127.0.0.1, for `make run` and config.demo.yml."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8081)
        parser.add_argument(
            "--directory", type=Path, default=None, help="generated files (default: VAR_DIR/demo/sources)"
        )

    def handle(self, *args, port, directory, **options):
        directory = directory or Path(settings.VAR_DIR) / "demo" / "sources"
        if not directory.is_dir():
            raise CommandError(f"{directory} does not exist: run `manage.py load_demo_data` first")
        try:
            server = make_server(directory, port=port)
        except OSError as exc:
            raise CommandError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from exc
        self.stdout.write(f"demo sources on http://127.0.0.1:{port} from {directory}")
        self.stdout.flush()  # `make run` shows it before the web server's first lines
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()

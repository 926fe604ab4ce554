from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

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
        server = make_server(directory, port=port)
        self.stdout.write(f"demo sources on http://127.0.0.1:{port} from {directory}")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()

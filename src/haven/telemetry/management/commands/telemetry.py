"""haven telemetry listen | serve-osmand | escalate | offline | purge | stats"""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from haven.telemetry import services


class Command(BaseCommand):
    help = "Telemetry: MQTT listener, OsmAnd receiver, escalation and offline sweeps, retention."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listen = sub.add_parser("listen", help="Subscribe to OwnTracks topics on the MQTT broker")
        listen.add_argument("--host", default="127.0.0.1")
        listen.add_argument("--port", type=int, default=1883)
        listen.add_argument("--topic", default="owntracks/#")
        listen.add_argument("--client-id", default="haven-telemetry")
        serve = sub.add_parser(
            "serve-osmand", help="OsmAnd/Traccar Client receiver on its own port"
        )
        serve.add_argument("--host", default="127.0.0.1")
        serve.add_argument("--port", type=int, default=5055)
        serve.add_argument(
            "--workers", type=int, default=0, help="gunicorn workers (0: one wsgiref process)"
        )
        serve.add_argument(
            "--threads",
            type=int,
            default=32,
            help="requests in flight per gunicorn worker (they share each commit)",
        )
        sub.add_parser("escalate", help="Escalate alerts not acknowledged in time")
        sub.add_parser("offline", help="Mark devices silent for too long as offline (alerts)")
        sub.add_parser("purge", help="Delete positions past the retention period")

    def handle(self, *args: Any, **options: Any) -> None:
        logging.getLogger("haven.telemetry").setLevel(logging.INFO)
        action = options["action"]
        if action == "listen":
            from haven.telemetry.mqtt import Listener

            self.stdout.write(
                f"Listening on {options['host']}:{options['port']} {options['topic']}"
            )
            Listener(
                host=options["host"],
                port=options["port"],
                topic=options["topic"],
                client_id=options["client_id"],
            ).run_forever()
        elif action == "serve-osmand":
            if options["workers"] > 0:
                self._gunicorn(
                    options["host"], options["port"], options["workers"], options["threads"]
                )
                return
            from haven.telemetry.server import make_osmand_server

            server = make_osmand_server(options["host"], options["port"])
            self.stdout.write(f"OsmAnd receiver on http://{options['host']}:{options['port']}/")
            try:
                server.serve_forever()
            except KeyboardInterrupt:
                pass
            finally:
                server.server_close()
        elif action == "escalate":
            escalated = services.escalate_due()
            self.stdout.write(f"{len(escalated)} alert(s) escalated")
        elif action == "offline":
            alerts = services.check_offline()
            self.stdout.write(f"{len(alerts)} device(s) marked offline")
        elif action == "purge":
            self.stdout.write(f"{services.purge_positions()} position(s) deleted")

    def _gunicorn(self, host: str, port: int, workers: int, threads: int) -> None:
        import os
        import sys
        from pathlib import Path

        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        arguments = ["gunicorn", "haven.telemetry.wsgi", "--bind", f"{host}:{port}"]
        arguments += ["--workers", str(workers), "--log-level", "warning"]
        # Threads, not one request per process: waiting requests share their worker's commit.
        arguments += ["--worker-class", "gthread", "--threads", str(threads)]
        os.execv(gunicorn, arguments)  # noqa: S606 - replaces this process on purpose

"""haven telemetry listen | serve-osmand | serve-teltonika | escalate | offline | purge | stats"""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from haven.runtime.heartbeat import start_beating
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
        listen.add_argument(
            "--share",
            default="",
            metavar="GROUP",
            help="Subscribe as one of a group of listeners sharing the topic's messages (each "
            "listener of the group with its own --client-id)",
        )
        _receiver(
            sub,
            "serve-osmand",
            "OsmAnd/Traccar Client receiver on its own port",
            5055,
            "uvicorn worker processes, each with its own batch writer (0 or 1: one process)",
        )
        _receiver(
            sub,
            "serve-teltonika",
            "Teltonika Codec 8 / 8E receiver (TCP) on its own port",
            5027,
            "receiver processes sharing the port (SO_REUSEPORT), each with its own batch "
            "writer (0 or 1: one process)",
        )
        sub.add_parser("escalate", help="Escalate alerts not acknowledged in time")
        sub.add_parser("offline", help="Mark devices silent for too long as offline (alerts)")
        sub.add_parser("purge", help="Delete positions past the retention period")

    def handle(self, *args: Any, **options: Any) -> None:
        logging.getLogger("haven.telemetry").setLevel(logging.INFO)
        action = options["action"]
        if action == "listen":
            from haven.telemetry.mqtt import Listener

            start_beating("mqtt")

            shared = f" (shared by group {options['share']})" if options["share"] else ""
            self.stdout.write(
                f"Listening on {options['host']}:{options['port']} {options['topic']}{shared}"
            )
            Listener(
                host=options["host"],
                port=options["port"],
                topic=options["topic"],
                share=options["share"],
                client_id=options["client_id"],
            ).run_forever()
        elif action == "serve-osmand":
            from haven.telemetry.osmand import serve

            start_beating("osmand")  # the command's process; uvicorn's workers are its children

            self.stdout.write(f"OsmAnd receiver on http://{options['host']}:{options['port']}/")
            serve(options["host"], options["port"], options["workers"])
        elif action == "serve-teltonika":
            from haven.telemetry.teltonika_server import serve as serve_teltonika
            from haven.telemetry.workers import supervise

            host, port, workers = options["host"], options["port"], options["workers"]
            if workers > 1:
                self.stdout.write(f"Teltonika receiver on tcp://{host}:{port}, {workers} workers")
                self.stdout.flush()
                sys.exit(supervise(host, port, workers, _teltonika_worker))
            start_beating("teltonika")
            self.stdout.write(f"Teltonika receiver on tcp://{host}:{port}")
            serve_teltonika(host, port)
        elif action == "escalate":
            escalated = services.escalate_due()
            self.stdout.write(f"{len(escalated)} alert(s) escalated")
        elif action == "offline":
            alerts = services.check_offline()
            self.stdout.write(f"{len(alerts)} device(s) marked offline")
        elif action == "purge":
            self.stdout.write(f"{services.purge_positions()} position(s) deleted")


def _receiver(sub: Any, action: str, summary: str, port: int, workers: str) -> None:
    """A device receiver's subcommand: the address it listens on and how many processes."""
    receiver = sub.add_parser(action, help=summary)
    receiver.add_argument("--host", default="127.0.0.1")
    receiver.add_argument("--port", type=int, default=port)
    receiver.add_argument("--workers", type=int, default=0, help=workers)


def _teltonika_worker(host: str, port: int, supervisor: int) -> None:
    """One of serve-teltonika --workers N (forked): beats for itself (a heartbeat instance per
    pid) and serves on the shared port."""
    from haven.telemetry.teltonika_server import serve as serve_teltonika

    start_beating("teltonika")
    serve_teltonika(host, port, worker_of=supervisor)

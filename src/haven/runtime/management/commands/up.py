"""haven up: start and watch every part of Haven (see haven.runtime.restarter for why each
part runs under a restarter rather than directly under honcho)."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management import get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser

from haven.runtime.parts import (
    Addresses,
    broker_answers,
    default_teltonika_workers,
    no_broker_message,
    process_table,
)

# honcho's return codes when it stopped everything on a signal: a requested stop, not a failure.
STOPPED_ON_SIGNAL = {130, 143}


class Command(BaseCommand):
    help = "Run every part of Haven (web, worker, scheduler, receivers), restarting any that dies."

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = Addresses()
        parser.add_argument("--web-bind", default=defaults.web_bind, metavar="HOST:PORT")
        parser.add_argument("--osmand-host", default=defaults.osmand_host)
        parser.add_argument("--osmand-port", type=int, default=defaults.osmand_port)
        parser.add_argument("--teltonika-host", default=defaults.teltonika_host)
        parser.add_argument("--teltonika-port", type=int, default=defaults.teltonika_port)
        parser.add_argument(
            "--teltonika-workers",
            type=int,
            default=default_teltonika_workers(),
            metavar="N",
            help="Teltonika receiver processes sharing its port (default: one per core, at "
            "least 2; 1: one process)",
        )
        parser.add_argument("--mqtt-host", default=defaults.mqtt_host)
        parser.add_argument("--mqtt-port", type=int, default=defaults.mqtt_port)

    def handle(self, *args: Any, **options: Any) -> None:
        from honcho.manager import Manager

        addresses = Addresses(
            web_bind=options["web_bind"],
            osmand_host=options["osmand_host"],
            osmand_port=options["osmand_port"],
            teltonika_host=options["teltonika_host"],
            teltonika_port=options["teltonika_port"],
            mqtt_host=options["mqtt_host"],
            mqtt_port=options["mqtt_port"],
        )
        if ":" not in addresses.web_bind:
            raise CommandError(f"--web-bind must be HOST:PORT, not {addresses.web_bind!r}")
        with_mqtt = broker_answers(addresses.mqtt_host, addresses.mqtt_port)
        if not with_mqtt:
            self.stdout.write(no_broker_message(addresses.mqtt_host, addresses.mqtt_port))
        available = get_commands()
        environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
        manager = Manager()
        for part in process_table(
            addresses,
            with_mqtt,
            with_witness=settings.LOCAL_WITNESS,
            with_mailbox=settings.DEMO_MAILBOX,
            teltonika_workers=options["teltonika_workers"],
        ):
            if part.arguments[0] not in available:
                self.stdout.write(f"{part.name}: `haven {part.arguments[0]}` is not available")
                continue
            manager.add_process(part.name, part.command_line(), env=environment)
        self.stdout.flush()
        manager.loop()
        returncode = manager.returncode or 0
        sys.exit(0 if returncode in STOPPED_ON_SIGNAL else returncode)

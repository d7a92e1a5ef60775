"""WSGI entry point of the OsmAnd receiver alone, for gunicorn on its own port:
``gunicorn haven.telemetry.wsgi --bind 0.0.0.0:5055 --worker-class gthread --threads 32``.
`haven telemetry serve-osmand` runs the ASGI front (haven.telemetry.asgi) instead."""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings")
django.setup()

from haven.telemetry.server import WRITER, osmand_app  # noqa: E402

application = osmand_app
WRITER.start()  # in the worker (gunicorn imports the app after forking): builds the fence index

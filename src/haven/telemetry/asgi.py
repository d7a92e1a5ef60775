"""ASGI entry point of the OsmAnd receiver alone, for uvicorn worker processes:
``uvicorn haven.telemetry.asgi:application --port 5055`` (what `serve-osmand --workers N` runs,
with the settings of haven.telemetry.osmand.uvicorn_options)."""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings")
django.setup()

from haven.telemetry.osmand import OsmAndApp  # noqa: E402

application = OsmAndApp()  # its writer starts with the lifespan, in the worker process

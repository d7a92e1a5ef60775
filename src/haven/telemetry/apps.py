from django.apps import AppConfig


class TelemetryConfig(AppConfig):
    name = "haven.telemetry"
    label = "telemetry"
    verbose_name = "Alerts and telemetry"

    def ready(self) -> None:
        # Register this domain's visibility rules (haven.access.visibility).
        from . import visibility  # noqa: F401

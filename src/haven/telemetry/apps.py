from django.apps import AppConfig


class TelemetryConfig(AppConfig):
    name = "haven.telemetry"
    label = "telemetry"
    verbose_name = "Alerts and telemetry"

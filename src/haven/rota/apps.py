from django.apps import AppConfig


class RotaConfig(AppConfig):
    name = "haven.rota"
    label = "rota"
    verbose_name = "On-call rota and welfare"

    def ready(self) -> None:
        # Register this domain's visibility rules (haven.access.visibility).
        from . import visibility  # noqa: F401

from django.apps import AppConfig


class EquipmentConfig(AppConfig):
    name = "haven.equipment"
    label = "equipment"
    verbose_name = "Equipment and deployments"

    def ready(self) -> None:
        # Register this domain's visibility rules (haven.access.visibility).
        from haven.concurrency.references import register_series

        from . import visibility  # noqa: F401
        from .models import DEPLOYMENT, Deployment

        register_series("DEP", DEPLOYMENT, Deployment)  # people name deployments by reference

from django.apps import AppConfig


class EquipmentConfig(AppConfig):
    name = "haven.equipment"
    label = "equipment"
    verbose_name = "Equipment and deployments"

    def ready(self) -> None:
        # Register this domain's visibility rules (haven.access.visibility).
        from . import visibility  # noqa: F401

from uuid import UUID

from django.apps import AppConfig


class EquipmentConfig(AppConfig):
    name = "haven.equipment"
    label = "equipment"
    verbose_name = "Equipment and deployments"

    def ready(self) -> None:
        # Register this domain's visibility rules (haven.access.visibility).
        from haven.access import labels
        from haven.concurrency.references import register_series

        from . import visibility  # noqa: F401
        from .models import DEPLOYMENT, Deployment

        register_series("DEP", DEPLOYMENT, Deployment)  # people name deployments by reference
        labels.register(DEPLOYMENT, deployment_labels)


def deployment_labels(ids: list[UUID]) -> dict[UUID, str]:
    """Deployment references and markings by id, for the administration pages
    (haven.access.labels): never the title, which may describe the operation."""
    from .models import Deployment

    return {
        deployment.pk: f"Deployment {deployment.reference} ({deployment.marking})"
        for deployment in Deployment.objects.filter(pk__in=ids)
    }

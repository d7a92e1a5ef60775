from uuid import UUID

from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "haven.cases"
    label = "cases"
    verbose_name = "Protection cases"

    def ready(self) -> None:
        # Register this domain's visibility rules (haven.access.visibility).
        # Documents live in the vault's blob store; key rotation needs their ids and aad.
        from haven.access import labels
        from haven.concurrency.references import register_series
        from haven.vault.blobs import register_blob_source

        from . import visibility  # noqa: F401
        from .models import OBJECT_TYPE, Case, Document

        register_blob_source(Document.stored_blobs)
        register_series("HVN", OBJECT_TYPE, Case)  # people name cases by reference
        labels.register(OBJECT_TYPE, case_labels)


def case_labels(ids: list[UUID]) -> dict[UUID, str]:
    """Case references and markings by id, for the administration pages (haven.access.labels)."""
    from .models import Case

    return {
        case.pk: f"Case {case.reference} ({case.marking})"
        for case in Case.objects.filter(pk__in=ids)
    }

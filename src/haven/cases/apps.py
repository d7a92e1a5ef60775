from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "haven.cases"
    label = "cases"
    verbose_name = "Protection cases"

    def ready(self) -> None:
        # Register this domain's visibility rules (haven.access.visibility).
        # Documents live in the vault's blob store; key rotation needs their ids and aad.
        from haven.concurrency.references import register_series
        from haven.vault.blobs import register_blob_source

        from . import visibility  # noqa: F401
        from .models import OBJECT_TYPE, Case

        register_blob_source(document_blobs)
        register_series("HVN", OBJECT_TYPE, Case)  # people name cases by reference


def document_blobs() -> list[tuple[str, bytes]]:
    """(blob id, aad) of every stored document, for `haven keys rotate`."""
    from .models import Document

    return [
        (document.blob_id, document.blob_aad())
        for document in Document.objects.only("id", "case_id", "blob_id")
    ]

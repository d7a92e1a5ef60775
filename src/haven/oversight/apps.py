from django.apps import AppConfig


class OversightConfig(AppConfig):
    name = "haven.oversight"
    label = "oversight"
    verbose_name = "Oversight"

    def ready(self) -> None:
        # Register this domain's visibility rules (haven.access.visibility).
        from haven.concurrency.references import register_series
        from haven.vault.blobs import register_blob_source

        from . import models, visibility  # noqa: F401

        # People name oversight records by reference (the ledger search resolves them).
        register_series("CMP", models.COMPLAINT, models.Complaint)
        register_series("MIS", models.HEARING, models.MisconductHearing)
        register_series("PAT", models.TRIBUNAL, models.PoliceAppealTribunal)
        register_series("PEN", models.FORFEITURE, models.PensionForfeiture)
        register_series("GOV", models.GOVERNANCE, models.GovernanceMeeting)
        # Documents live in the vault's blob store; key rotation needs their ids and aad.
        register_blob_source(models.ComplaintDocument.stored_blobs)

from django.apps import AppConfig


class AdministrationConfig(AppConfig):
    """The administration module's interface: account lifecycle, vetting and training, access
    review (web and API). Its writes are accounts.services; it has no models."""

    name = "haven.administration"
    label = "administration"
    verbose_name = "Administration"

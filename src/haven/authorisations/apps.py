from django.apps import AppConfig


class AuthorisationsConfig(AppConfig):
    name = "haven.authorisations"
    label = "authorisations"
    verbose_name = "Covert authorisations"

    def ready(self) -> None:
        # Register this domain's visibility rules (haven.access.visibility).
        from . import visibility  # noqa: F401

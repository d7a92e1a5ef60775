from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "haven.cases"
    label = "cases"
    verbose_name = "Protection cases"

    def ready(self) -> None:
        # Register this domain's visibility rules (haven.access.visibility).
        from . import visibility  # noqa: F401

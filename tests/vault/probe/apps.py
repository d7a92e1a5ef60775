from django.apps import AppConfig


class ProbeConfig(AppConfig):
    name = "tests.vault.probe"
    label = "vault_probe"
    default_auto_field = "django.db.models.BigAutoField"

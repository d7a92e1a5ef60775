from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "haven.vault"
    label = "vault"
    verbose_name = "Vault (field encryption)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core import checks
        from django.core.signals import setting_changed
        from django.db.models.signals import post_migrate

        from haven.vault import keyring

        checks.register(keyring.check_keys, checks.Tags.security)
        post_migrate.connect(
            keyring.ensure_first_data_key_after_migrate,
            sender=self,
            dispatch_uid="haven.vault.first_data_key",
        )
        setting_changed.connect(
            keyring.forget_refresh_deadline, dispatch_uid="haven.vault.refresh_deadline"
        )

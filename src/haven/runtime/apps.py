from django.apps import AppConfig


class RuntimeConfig(AppConfig):
    """The runtime: the scheduler, heartbeats and health of Haven's long-running parts, the
    supervisor (`haven up`) and the deployment checks."""

    name = "haven.runtime"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core import checks as django_checks
        from django.utils.module_loading import autodiscover_modules

        from . import checks  # noqa: F401  (registers the deploy check)
        from .deploychecks import DEPLOY_CHECKS

        for check in DEPLOY_CHECKS:
            django_checks.register(check, django_checks.Tags.security, deploy=True)
        # Each app declares its periodic jobs in its own schedule.py (see haven.runtime.schedule).
        autodiscover_modules("schedule")

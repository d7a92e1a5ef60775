from django.apps import AppConfig


class RuntimeConfig(AppConfig):
    name = "haven.runtime"
    label = "runtime"
    verbose_name = "Runtime"

    def ready(self) -> None:
        from django.core import checks

        from haven.runtime import deploychecks

        for check in deploychecks.DEPLOY_CHECKS:
            checks.register(check, checks.Tags.security, deploy=True)

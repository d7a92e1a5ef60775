from django.apps import AppConfig


class RotaConfig(AppConfig):
    name = "haven.rota"
    label = "rota"
    verbose_name = "On-call rota and welfare"

from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "haven.access"
    label = "access"
    verbose_name = "Access control"

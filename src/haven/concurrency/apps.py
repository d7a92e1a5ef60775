from django.apps import AppConfig


class ConcurrencyConfig(AppConfig):
    name = "haven.concurrency"
    label = "concurrency"
    verbose_name = "Concurrency"

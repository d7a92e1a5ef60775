from django.apps import AppConfig


class EquipmentConfig(AppConfig):
    name = "haven.equipment"
    label = "equipment"
    verbose_name = "Equipment and deployments"

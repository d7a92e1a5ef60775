from django.db import migrations

from haven.equipment import triggers

ASSET_TYPES = [
    ("covert-camera", "Covert camera", "Concealed video camera", False),
    ("overt-camera", "Overt camera", "Visible deterrent camera", False),
    ("audio-device", "Audio device", "Audio capture device", False),
    ("alarm-panel", "Alarm panel", "Intruder or panic alarm panel", True),
    ("panic-button", "Panic button", "Personal or fixed panic alarm", True),
    ("vehicle-tracker", "Vehicle tracker", "GPS tracker fitted to a vehicle", True),
    ("property-tracker", "Property tracker", "GPS tracker hidden in property", True),
    ("router-ip-link", "Router / IP link", "Router, 4G/5G modem or IP link", False),
    ("phone-app", "Phone app", "Tracking or alarm app on a phone", True),
]


def install_append_only_triggers(apps, schema_editor):
    def execute(sql, params=None):
        schema_editor.execute(sql, params)

    triggers.install(execute, schema_editor.connection.vendor)


def add_asset_types(apps, schema_editor):
    asset_type = apps.get_model("equipment", "AssetType")
    for code, name, description, trackable in ASSET_TYPES:
        asset_type.objects.get_or_create(
            code=code,
            defaults={"name": name, "description": description, "trackable": trackable},
        )


class Migration(migrations.Migration):
    dependencies = [("equipment", "0001_initial")]

    operations = [
        migrations.RunPython(install_append_only_triggers, migrations.RunPython.noop),
        migrations.RunPython(add_asset_types, migrations.RunPython.noop),
    ]

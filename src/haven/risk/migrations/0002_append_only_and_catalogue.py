from django.db import migrations

from haven.risk import triggers
from haven.risk.config import MEASURE_CATALOGUE


def install_append_only_triggers(apps, schema_editor):
    def execute(sql, params=None):
        schema_editor.execute(sql, params)

    triggers.install(execute, schema_editor.connection.vendor)


def add_catalogue(apps, schema_editor):
    measure_type = apps.get_model("risk", "MeasureType")
    for code, name, description in MEASURE_CATALOGUE:
        measure_type.objects.get_or_create(
            code=code, defaults={"name": name, "description": description}
        )


class Migration(migrations.Migration):
    dependencies = [("risk", "0001_initial")]

    operations = [
        migrations.RunPython(install_append_only_triggers, migrations.RunPython.noop),
        migrations.RunPython(add_catalogue, migrations.RunPython.noop),
    ]

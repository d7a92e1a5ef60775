import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("telemetry", "0005_tcp_vehicle_io_events"),
    ]

    operations = [
        migrations.AlterField(
            model_name="geofence",
            name="updated_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
        ),
    ]

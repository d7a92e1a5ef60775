from django.db import migrations, models


class Migration(migrations.Migration):
    """Deployments join the one team model: supervising officer and technician places."""

    dependencies = [
        ("access", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="teammembership",
            name="team_role",
            field=models.CharField(
                choices=[
                    ("lead", "Lead officer"),
                    ("officer", "Officer"),
                    ("manager", "Case manager"),
                    ("authorising", "Authorising officer"),
                    ("supervisor", "Supervising officer"),
                    ("technician", "Technician"),
                ],
                max_length=20,
            ),
        ),
    ]

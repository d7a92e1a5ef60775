"""Deployment teams move to access.TeamMembership (object_type "deployment"), the team model
cases use; each DeploymentMember row is copied with its place as the team role, then the
DeploymentMember model is removed. Reversible: going back copies the places back."""

from django.db import migrations

DEPLOYMENT = "deployment"


def copy_members_to_teams(apps, schema_editor):
    member_model = apps.get_model("equipment", "DeploymentMember")
    team_model = apps.get_model("access", "TeamMembership")
    team_model.objects.bulk_create(
        [
            team_model(
                object_type=DEPLOYMENT,
                object_id=member.deployment_id,
                user_id=member.user_id,
                team_role=member.place,
                added_at=member.added_at,
            )
            for member in member_model.objects.order_by("pk").iterator()
        ],
        batch_size=500,
        ignore_conflicts=True,
    )


def copy_teams_to_members(apps, schema_editor):
    member_model = apps.get_model("equipment", "DeploymentMember")
    team_model = apps.get_model("access", "TeamMembership")
    rows = team_model.objects.filter(object_type=DEPLOYMENT)
    member_model.objects.bulk_create(
        [
            member_model(
                deployment_id=row.object_id,
                user_id=row.user_id,
                place=row.team_role,
                added_at=row.added_at,
            )
            for row in rows.order_by("pk").iterator()
        ],
        batch_size=500,
        ignore_conflicts=True,
    )
    rows.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0002_deployment_team_roles"),
        ("equipment", "0002_custody_append_only_and_asset_types"),
    ]

    operations = [
        migrations.RunPython(copy_members_to_teams, copy_teams_to_members),
        migrations.DeleteModel(name="DeploymentMember"),
    ]

"""The plaintext access.Notification rows move, encrypted, into the inbox; the table goes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from haven.notifications.models import Notification
from tests.factories import UserFactory

BEFORE = [("access", "0002_deployment_team_roles"), ("notifications", "0001_initial")]
AFTER = [("access", "0003_notification_moved_to_notifications")]
MESSAGE = "Marigold Vantablack used break-glass access on HVN-2026-00077: welfare"


@pytest.mark.django_db(transaction=True)
def test_existing_notifications_are_encrypted_and_the_plaintext_table_removed(resettable_ledger):
    user = UserFactory()
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps.get_model("access", "Notification")
        old.objects.create(user_id=user.pk, message=MESSAGE, link="/cases/x/")
        old.objects.create(user_id=user.pk, message="ALERT: tracker", read_at=timezone.now())
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert "access_notification" not in connection.introspection.table_names()
    moved = {n.message: n for n in Notification.objects.filter(user=user)}
    assert (moved[MESSAGE].category, moved[MESSAGE].reference) == ("break_glass", "HVN-2026-00077")
    assert moved[MESSAGE].link == "/cases/x/" and moved[MESSAGE].read_at is None
    assert moved["ALERT: tracker"].category == "telemetry" and moved["ALERT: tracker"].read_at
    with connection.cursor() as cursor:
        cursor.execute("SELECT message FROM notifications_notification")
        assert all("Marigold" not in row[0] for row in cursor.fetchall())

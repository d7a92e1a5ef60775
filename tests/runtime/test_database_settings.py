"""Haven's own PostgreSQL connections price random page reads for memory and SSD."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def show(setting: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {setting}")
        (value,) = cursor.fetchone()
    return str(value)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL planner setting")
def test_the_planner_prices_random_page_reads_for_memory_and_ssd() -> None:
    assert show("random_page_cost") == "1.1"
    assert show("synchronous_commit") == "off"  # the test settings' own option is kept too

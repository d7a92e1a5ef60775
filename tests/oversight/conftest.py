from __future__ import annotations

from datetime import UTC, datetime

import pytest

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def clock(time_machine):  # type: ignore[no-untyped-def]
    """Oversight rules depend on today's date: pin it (tests move it further as needed)."""
    time_machine.move_to(NOW, tick=False)
    return time_machine

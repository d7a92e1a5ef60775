from __future__ import annotations

from collections.abc import Iterator

import pytest

from haven.telemetry import services


@pytest.fixture(autouse=True)
def fresh_telemetry_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test sees its own fences (no index cache across tests) and an empty flood gate."""
    monkeypatch.setattr(services, "FENCE_CACHE_SECONDS", 0.0)
    services.reset_fences()
    services.FLOOD.seen.clear()
    services.REJECTED.clear()
    services.LAST_FIXES.clear()
    yield
    services.reset_fences()

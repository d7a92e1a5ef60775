from __future__ import annotations

import pytest
from django.db import connection

from haven.runtime import checks, lock


@pytest.mark.django_db
def test_a_second_holder_cannot_take_the_lock_until_the_first_lets_go():
    first, second = lock.SchedulerLock(), lock.SchedulerLock()
    try:
        assert first.acquire()
        assert not second.acquire()
        first.release()
        assert second.acquire()
    finally:
        first.release()
        second.release()


@pytest.mark.django_db
def test_the_deploy_check_refuses_a_lock_directory_it_cannot_write(tmp_path, settings):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL uses the advisory lock, not a lock file")
    settings.DATA_DIR = tmp_path
    assert checks.check_scheduler_lock() == []
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    settings.DATA_DIR = not_a_directory  # fails for root too, unlike a read-only directory
    [error] = checks.check_scheduler_lock()
    assert error.id == "haven.runtime.E001"


@pytest.mark.django_db
def test_the_deploy_check_passes_with_the_advisory_lock_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL variant")
    assert checks.check_scheduler_lock() == []

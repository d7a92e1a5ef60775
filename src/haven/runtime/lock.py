"""Exactly one scheduler acts at a time.

PostgreSQL: a session advisory lock on a connection of its own, held for the scheduler's
lifetime; the server releases it when that connection dies, so a standby takes over after a
crash. SQLite: an exclusive ``flock`` on a file beside the database; the kernel releases it when
the process dies.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import connections

# A fixed key of Haven's own (the ledger checkpoint uses another).
SCHEDULER_LOCK_KEY = 0x48_41_56_53  # "HAVS"


def lock_file_path() -> Path:
    return Path(settings.DATA_DIR) / "scheduler.lock"


class SchedulerLock:
    """Non-blocking: ``acquire()`` says whether this process is now the active scheduler."""

    def __init__(self, alias: str = "default") -> None:
        self.alias = alias
        self._connection: Any = None
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._connection is not None or self._file is not None

    def acquire(self) -> bool:
        if self.held:
            return True
        if connections[self.alias].vendor == "postgresql":
            return self._acquire_advisory()
        return self._acquire_file()

    def release(self) -> None:
        if self._connection is not None:
            self._connection.close()  # closing the session releases its advisory locks
            self._connection = None
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def _acquire_advisory(self) -> bool:
        # Not the thread's shared connection: a lock on it would die with any reconnect.
        connection = connections.create_connection(self.alias)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [SCHEDULER_LOCK_KEY])
            (locked,) = cursor.fetchone()
        if not locked:
            connection.close()
            return False
        self._connection = connection
        return True

    def _acquire_file(self) -> bool:
        path = lock_file_path()
        handle = path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return True

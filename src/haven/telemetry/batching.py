"""Group commit: receiver threads hand parsed messages to one writer thread, which stores
whatever has queued up in ONE transaction (services.ingest_batch) and then answers each sender.

One message per transaction costs a commit and ~5 statements each; a batch costs about the
same as one message plus its rows. Nothing waits on purpose: while the writer commits one
batch the next one queues up, so batches grow with the load and a lone message goes at once.

A sender learns its message's outcome only after the commit, so "200" (HTTP) or a PUBACK
(MQTT) still means stored. When the batch fails, every message in it fails (StoreFailed: 503,
no PUBACK) and nothing of it is stored; the senders retry, and storing is idempotent.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import os
import queue
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from django.db import DatabaseError, InterfaceError, OperationalError
from django.db import connection as db_connection

from . import services
from .protocols import Message

log = logging.getLogger("haven.telemetry")

MAX_BATCH = 500
SWITCH_INTERVAL_S = 0.001  # for the whole process, once a batch writer runs in it
WAIT_S = 30.0  # a sender gives up (503) after this; the message may still be stored: harmless


class StoreFailed(DatabaseError):
    """The batch holding this message was not stored (rolled back): answer 503, do not ack."""


# Called on the writer thread once a message's batch has committed (outcome) or failed (error).
Settle = Callable[[services.Outcome | None, StoreFailed | None], None]


class BatchStore(Protocol):
    def __call__(
        self, messages: list[Message], *, received_at: list[dt.datetime]
    ) -> list[services.Outcome]: ...


@dataclass(slots=True)
class _Job:
    message: Message
    received_at: dt.datetime
    settle: Settle


class BatchWriter:
    """The writer thread and its queue. Started on first use in the process that uses it (gunicorn
    imports the app before it forks its workers; each worker gets its own writer)."""

    def __init__(self, *, max_batch: int = MAX_BATCH, store: BatchStore | None = None) -> None:
        self.max_batch = max_batch
        self._store: BatchStore = store or services.ingest_batch  # type: ignore[assignment]
        self._warm = store is None  # a writer with its own store (tests) needs no fence index
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._lock = threading.Lock()
        self._closed = False
        self.batches = 0  # statistics: batches written and messages in them
        self.messages = 0

    @property
    def closed(self) -> bool:
        """Stopped: whatever is submitted now fails at once (StoreFailed)."""
        return self._closed

    def submit(self, message: Message, received_at: dt.datetime) -> Future[services.Outcome]:
        """Queue one message; the future resolves after its batch commits (or fails)."""
        future: Future[services.Outcome] = Future()
        self.submit_with(message, received_at, partial(_settle, future))
        return future

    def submit_with(self, message: Message, received_at: dt.datetime, settle: Settle) -> None:
        """Queue one message; `settle` is called on the writer thread with its outcome once
        its batch has committed, or with the error once it has failed (an event loop's
        receiver hands that to its loop itself, without a Future and its lock per message)."""
        if self._closed:
            settle(None, StoreFailed("the batch writer has stopped"))
            return
        self._ensure_started()
        self._queue.put(_Job(message, received_at, settle))

    def store(self, message: Message, received_at: dt.datetime) -> services.Outcome:
        """Queue one message and wait for its outcome (a receiver's request thread)."""
        try:
            return self.submit(message, received_at).result(WAIT_S)
        except FutureTimeout:
            raise StoreFailed("the batch writer did not answer in time") from None

    def start(self) -> threading.Thread:
        """Start the writer now rather than on the first message; returns its thread."""
        self._ensure_started()
        assert self._thread is not None
        return self._thread

    def stop(self, timeout: float = 10.0) -> None:
        """Store what is queued, then end the thread; later messages fail (StoreFailed)."""
        self._closed = True
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join(timeout)
        self._thread = None

    def _ensure_started(self) -> None:
        if self._thread is not None and self._pid == os.getpid():
            return
        with self._lock:
            if self._thread is None or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="telemetry-batch-writer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        # The receiving thread (event loop, MQTT network loop) blocks in a system call for
        # every message and then waits for the interpreter lock while this thread computes a
        # batch: with the default 5 ms switch interval it gets it back late, again and again.
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        if self._warm:
            self._warm_up()
        try:
            while True:
                jobs, stopping = self._next_batch()
                if jobs:
                    self._write(jobs)
                if stopping:
                    return
        finally:
            db_connection.close()  # this thread's own connection

    def _warm_up(self) -> None:
        """Build the fence index before the first batch needs it (10,000 fences: seconds)."""
        try:
            services.fence_index()
        except Exception as error:  # noqa: BLE001 - the first batch builds it then
            log.warning("telemetry: fence index not built yet (%r)", error)
        freeze_long_lived_objects()

    def _next_batch(self) -> tuple[list[_Job], bool]:
        """Wait for one message, then take whatever else is already queued (up to max_batch)."""
        first = self._queue.get()
        if first is None:
            return [], True
        jobs = [first]
        while len(jobs) < self.max_batch:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                return jobs, True
            jobs.append(job)
        return jobs, False

    def _write(self, jobs: list[_Job]) -> None:
        # The writer keeps its connection between batches (close_old_connections() would
        # reconnect for every batch where CONN_MAX_AGE is 0); only a failure replaces it.
        try:
            outcomes = self._store(
                [job.message for job in jobs], received_at=[job.received_at for job in jobs]
            )
        except Exception as error:  # noqa: BLE001 - every sender must get an answer
            db_connection.close_if_unusable_or_obsolete()
            self._failed(jobs, error)
            return
        self.batches += 1
        self.messages += len(jobs)
        for job, outcome in zip(jobs, outcomes, strict=True):
            job.settle(outcome, None)

    def _failed(self, jobs: list[_Job], error: Exception) -> None:
        if len(jobs) > 1 and not isinstance(error, OperationalError | InterfaceError):
            # Maybe one message's data (or a bug it triggers): store the rest without it, or a
            # message that can never be stored would take every batch it lands in down with it.
            log.warning("telemetry: batch of %d failed (%r); storing one by one", len(jobs), error)
            for job in jobs:
                self._write([job])
            return
        log.error("telemetry: %d message(s) not stored: %r", len(jobs), error, exc_info=error)
        for job in jobs:
            failure = StoreFailed(f"not stored: {error!r}")
            failure.__cause__ = error
            job.settle(None, failure)


def _settle(
    future: Future[services.Outcome],
    outcome: services.Outcome | None = None,
    error: StoreFailed | None = None,
) -> None:
    """Resolve a sender's future (an outcome may be a Rejected: a result, not an error), unless
    the sender gave up on it and cancelled it: its message is still stored, the answer goes
    nowhere."""
    try:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(outcome)  # type: ignore[arg-type]
    except InvalidStateError:
        pass


def freeze_long_lived_objects() -> None:
    """Take what the process holds for good (Django's registry, the fence index: ~150,000
    objects) out of the cyclic garbage collector's sight. Its full collections, triggered by
    the allocations of every batch, otherwise walk all of them again and again (~30 µs a
    message). Frozen objects are still freed by reference counting when dropped; garbage is
    collected first so that none of it is frozen."""
    gc.collect()
    gc.freeze()

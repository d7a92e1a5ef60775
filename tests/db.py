"""Database scaffolding shared by tests that build state once and try many things on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction


def scaffolding_block() -> transaction.Atomic:
    """An atomic block marked as test scaffolding, as Django's TestCase marks its own, so that a
    service's `transaction.atomic(durable=True)` may still open inside it."""
    block = transaction.atomic()
    block._from_testcase = True  # type: ignore[attr-defined]
    return block


@contextmanager
def rolled_back() -> Iterator[None]:
    """A transaction (or savepoint) that is always rolled back: nothing done inside survives."""
    with scaffolding_block():
        yield
        transaction.set_rollback(True)

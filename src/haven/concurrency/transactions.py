"""The transaction of a service: every write (and every read that is logged) runs in one.

``@service`` is ``@transaction.atomic`` that also marks the code inside as a service
transaction. The ledger refuses an entry written outside one (``in_service()`` is false), so a
service or selector that forgot its transaction fails its tests, even though pytest-django runs
every test inside a transaction of its own (``in_atomic_block`` alone is always true there).
Services may call one another: the inner one joins the outer transaction (a savepoint).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

from django.db import transaction

P = ParamSpec("P")
R = TypeVar("R")

_depth: ContextVar[int] = ContextVar("haven_service_depth", default=0)


@contextmanager
def service_transaction() -> Iterator[None]:
    """``with service_transaction():`` for code that is not one function (commands, loaders)."""
    with transaction.atomic():
        token = _depth.set(_depth.get() + 1)
        try:
            yield
        finally:
            _depth.reset(token)


def service(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` in a service transaction (joining the caller's if there is one)."""

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with service_transaction():
            return function(*args, **kwargs)

    return run


def in_service() -> bool:
    """True inside a service transaction that is still open."""
    return _depth.get() > 0 and transaction.get_connection().in_atomic_block

"""URL tables (issue 14: one way to write a urlconf): one row a page, `(route, view)` or
`(route, view, name)`, in resolution order under a common prefix. A row without a name is
named after its view (a view a factory makes, whose __name__ is the factory's inner function,
names its row), so that a urlconf lists what differs (the route, and the few names that are not
the view's) and `path` is written once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.urls import URLPattern, path

View = Callable[..., Any]
Row = tuple[str, View] | tuple[str, View, str]


def routes(prefix: str, rows: Iterable[Row]) -> list[URLPattern]:
    """One `path` a row, its route after `prefix`, named as the row says or after its view."""
    patterns = []
    for route, view, *name in rows:
        patterns.append(path(prefix + route, view, name=name[0] if name else view.__name__))
    return patterns

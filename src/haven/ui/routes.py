"""URL tables: an app's urlconf lists its pages as `(route, view, name)` rows, in resolution
order, and `named_paths` makes them `path` entries (issue 14: one way to write a urlconf)."""

from collections.abc import Callable, Iterable

from django.http import HttpResponseBase
from django.urls import URLPattern, path

View = Callable[..., HttpResponseBase]
Route = tuple[str, View, str]


def named_paths(routes: Iterable[Route], prefix: str = "") -> list[URLPattern]:
    """One `path(prefix + route, view, name=name)` per row."""
    return [path(prefix + route, view, name=name) for route, view, name in routes]

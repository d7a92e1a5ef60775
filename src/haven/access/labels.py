"""What to call a team's object (a case, a deployment) outside its domain: its reference.

Administrators see which cases and deployments a person is on (access review, deactivation)
but never open casework, and core never imports a domain; so each domain registers, from its
AppConfig.ready(), how to name its objects by id. Only references and markings are given."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from uuid import UUID

Labeller = Callable[[list[UUID]], dict[UUID, str]]

_labellers: dict[str, Labeller] = {}


def register(object_type: str, labeller: Labeller) -> None:
    _labellers[object_type] = labeller


def labels(object_type: str, object_ids: Iterable[UUID]) -> dict[UUID, str]:
    """{id: label} of the given objects; an unregistered type or a missing row is named by
    its type and id."""
    ids = list(object_ids)
    labeller = _labellers.get(object_type)
    found = labeller(ids) if labeller and ids else {}
    return {object_id: found.get(object_id, f"{object_type} {object_id}") for object_id in ids}

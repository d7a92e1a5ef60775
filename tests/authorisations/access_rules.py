"""Covert authorisations register rules for the access matrix (tests/access/test_access_matrix.py).

- The register and each authorisation: the operations module (no team: inside and outside alike).
- Recording, reviewing, renewing, cancelling, linking: technical supervisors.
- Positions received outside authority (the quarantine): technical supervisors only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from haven.accounts.roles import Module, Role
from tests.access.rules import Actor, Rule, module, role

operations: Rule = module(Module.OPERATIONS)
supervisors: Rule = role(Role.TECHNICAL_SUPERVISOR)

WEB_POLICY: dict[str, Rule] = {
    "authorisations:register": operations,
    "authorisations:new": supervisors,
    "authorisations:quarantine": supervisors,
    "authorisations:detail": operations,
}

API_POLICY: dict[tuple[str, str], Rule] = {
    ("GET", "/api/authorisations"): operations,
    ("POST", "/api/authorisations"): supervisors,
    ("GET", "/api/authorisations/quarantine"): supervisors,
    ("GET", "/api/authorisations/{authorisation_id}"): operations,
    ("POST", "/api/authorisations/{authorisation_id}/reviews"): supervisors,
    ("POST", "/api/authorisations/{authorisation_id}/renewals"): supervisors,
    ("POST", "/api/authorisations/{authorisation_id}/cancellation"): supervisors,
    ("POST", "/api/authorisations/{authorisation_id}/links"): supervisors,
}

PARAMS = {
    "authorisation_id": lambda world, inside: str(
        world[f"authorisation_{'inside' if inside else 'outside'}"].pk
    ),
}


def _later(days: int) -> str:
    from django.utils import timezone

    return (timezone.now() + dt.timedelta(days=days)).isoformat()


SAMPLE_PAYLOADS = {
    ("POST", "/api/authorisations"): lambda world: {
        "reference": "Matrix/NEW/1",
        "kind": "directed_surveillance",
        "authorising_officer": "Supt Matrix",
        "granted_at": _later(0),
        "expires_at": _later(30),
    },
    ("POST", "/api/authorisations/{authorisation_id}/reviews"): lambda world: {
        "reviewed_at": _later(0),
        "note": "matrix",
    },
    ("POST", "/api/authorisations/{authorisation_id}/renewals"): lambda world: {
        "renewed_at": _later(0),
        "expires_at": _later(90),
        "version": 1,
    },
    ("POST", "/api/authorisations/{authorisation_id}/cancellation"): lambda world: {
        "cancelled_at": _later(0),
        "reason": "matrix",
        "version": 1,
    },
    ("POST", "/api/authorisations/{authorisation_id}/links"): lambda world: {
        "device_id": "matrix-inside",
    },
}


def build(world: dict[str, Any]) -> None:
    from tests.authorisations.helpers import make_authorisation

    actors: list[Actor] = world["actors"]
    supervisor = next(a.user for a in actors if a.role == Role.TECHNICAL_SUPERVISOR)
    for where in ("inside", "outside"):
        world[f"authorisation_{where}"] = make_authorisation(
            supervisor,
            reference=f"Matrix/{where}",
            authorising_officer=f"Supt Matrix{where.capitalize()}officer",
        )
    world["secrets_inside"] += ["Supt MatrixInsideofficer"]

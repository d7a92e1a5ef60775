"""Builders for register tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from haven.accounts.models import User
from haven.accounts.roles import Role
from haven.authorisations import services
from haven.authorisations.models import Authorisation, AuthorisationKind
from tests.factories import UserFactory


def supervisor() -> User:
    return UserFactory(roles=[Role.TECHNICAL_SUPERVISOR])


def officer() -> User:
    return UserFactory(roles=[Role.TECHNICAL_OFFICER])


_counter = {"n": 0}


def make_authorisation(actor: User, **kwargs: Any) -> Authorisation:
    _counter["n"] += 1
    now = timezone.now()
    values: dict[str, Any] = {
        "reference": f"PI/2026/{_counter['n']:03d}",
        "kind": AuthorisationKind.PROPERTY_INTERFERENCE,
        "authorising_officer": "Supt Ada Fictionalperson 0001",
        "granted_at": now - dt.timedelta(days=10),
        "expires_at": now + dt.timedelta(days=30),
    }
    values.update(kwargs)
    return services.record_authorisation(actor, **values)

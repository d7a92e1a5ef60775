"""Shared builders for operations tests (equipment and rota)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from haven.accounts.models import User
from haven.accounts.roles import Clearance, Role
from haven.equipment import services
from haven.equipment.models import Asset, AssetType, Deployment
from tests.factories import UserFactory

_serials = itertools.count(1)


def supervisor(**kwargs: Any) -> User:
    kwargs.setdefault("clearance", Clearance.SECRET)
    return UserFactory(roles=[Role.TECHNICAL_SUPERVISOR], **kwargs)


def technician(**kwargs: Any) -> User:
    kwargs.setdefault("clearance", Clearance.SECRET)
    return UserFactory(roles=[Role.TECHNICAL_OFFICER], **kwargs)


def make_asset(actor: User, *, type_code: str = "vehicle-tracker", **kwargs: Any) -> Asset:
    number = next(_serials)
    defaults: dict[str, Any] = {
        "make": "Fictitrack",
        "model_name": "FT-1",
        "serial": f"SN-TEST-{number:05d}",
        "sim_details": f"ICCID 8944000000000{number:05d}",
    }
    defaults.update(kwargs)
    return services.register_asset(
        actor, asset_type=AssetType.objects.get(code=type_code), **defaults
    )


def make_deployment(
    actor: User,
    *,
    start: datetime | None = None,
    days: float = 2,
    **kwargs: Any,
) -> Deployment:
    start = start or timezone.now() + timedelta(days=1)
    defaults: dict[str, Any] = {
        "title": "Fit alarm",
        "objective": "Install a panic alarm",
        "install_address": "1 Example Street, Testtown",
    }
    defaults.update(kwargs)
    return services.create_deployment(
        actor, starts_at=start, ends_at=start + timedelta(days=days), **defaults
    )

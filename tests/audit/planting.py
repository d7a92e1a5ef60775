"""Plant a distinctive text in every reason that reaches the ledger, through the services.

Used in-process (PostgreSQL: the test scans a COPY of every table) and by a subprocess against
a migrated SQLite file (the test scans the database file and its WAL). Each text names its
service, so a failure says which reason leaked.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from haven.accounts.roles import Role
from haven.cases import services as case_services
from haven.equipment import services as equipment_services
from haven.equipment.models import AssetState
from haven.risk import services as risk_services
from haven.rota import services as rota_services
from haven.rota.models import Rotation
from tests.equipment.helpers import make_asset, supervisor, technician
from tests.factories import UserFactory
from tests.risk.helpers import approved, make_team


def planted(service: str) -> str:
    """A text no other code or data contains (no spaces lost to tokenisation, mixed case)."""
    return f"Quokka{service.title().replace('_', '')}Plantedreason Xylofonic"


# Every service that passes a typed reason to ledger.record.
REASON_SERVICES = (
    "update_case",
    "grant_access",
    "break_glass",
    "change_status",
    "change_measure_status",
    "change_state",
    "add_override",
)


def plant_every_reason() -> dict[str, str]:
    texts = {name: planted(name) for name in REASON_SERVICES}
    team = make_team()
    case = team.case
    case_services.update_case(
        team.officer,
        case.pk,
        version=case.version,
        reason=texts["update_case"],
        address="2 Planted Road",
    )
    colleague = UserFactory(roles=[Role.PROTECTION_OFFICER])
    case_services.grant_access(
        team.manager, case.pk, colleague, reason=texts["grant_access"], days=1
    )
    case_services.break_glass(team.outsider, case.reference, texts["break_glass"])
    case.refresh_from_db()
    case_services.change_status(
        team.manager,
        case.pk,
        to_status="assessed",
        version=case.version,
        reason=texts["change_status"],
    )
    approved(team)
    measure = risk_services.add_measure(team.officer, case.pk, measure_type="alarm")
    risk_services.change_measure_status(
        team.manager,
        measure.pk,
        status="agreed",
        reason=texts["change_measure_status"],
        version=measure.version,
    )
    boss = supervisor()
    asset = make_asset(boss, state=AssetState.PROCURED)
    equipment_services.change_state(boss, asset.pk, AssetState.IN_STOCK, texts["change_state"])
    cover = technician()
    today = timezone.localdate()
    rota = rota_services.create_rota(boss, name="Planted rota", starts_on=today)
    rota_services.add_layer(
        boss,
        rota.pk,
        name="Primary",
        members=[technician(), cover],
        handover_time=dt.time(9),
        rotation=Rotation.DAILY,
    )
    start = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1), dt.time(10)))
    rota_services.add_override(
        boss,
        rota.pk,
        user=cover,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=4),
        reason=texts["add_override"],
    )
    return texts

"""Synthetic demo data for equipment: kit, a kit list and deployments.

Everything is obviously fictional. Needs the demo accounts `supervisor` and `technician`
(haven.demo.accounts); safe to run twice (existing demo serials are left alone). The rota part of
the operations demo is haven.rota.demo; haven.demo.operations runs both."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from haven.accounts.models import User
from haven.accounts.roles import Role
from haven.equipment import services
from haven.equipment.models import Asset, AssetType, TeamPlace

KIT = [
    ("vehicle-tracker", "Fictitrack", "FT-200", "DEMO-TRK-0001", "demo-tracker-1"),
    ("vehicle-tracker", "Fictitrack", "FT-200", "DEMO-TRK-0002", "demo-tracker-2"),
    ("property-tracker", "Imaginary Devices", "PT-5", "DEMO-PTK-0001", "demo-property-1"),
    ("panic-button", "Makebelieve Alarms", "PB-1", "DEMO-PB-0001", "demo-panic-1"),
    ("alarm-panel", "Makebelieve Alarms", "AP-9", "DEMO-AP-0001", None),
    ("covert-camera", "Notreal Optics", "CC-3", "DEMO-CAM-0001", None),
    ("router-ip-link", "Pretend Networks", "R-4G", "DEMO-RTR-0001", None),
]


def _user(username: str, role: str) -> User | None:
    user = User.objects.filter(username=username).first()
    if user is not None and not user.has_role(role):
        return None
    return user


def create_demo_equipment() -> tuple[User, User] | None:
    """Load the kit and deployments; the supervisor and technician used, or None if skipped."""
    boss = _user("supervisor", Role.TECHNICAL_SUPERVISOR)
    tech = _user("technician", Role.TECHNICAL_OFFICER)
    if boss is None or tech is None or Asset.objects.filter(serial=KIT[0][3]).exists():
        return None
    assets = []
    for number, (type_code, make, model, serial, device_id) in enumerate(KIT, 1):
        assets.append(
            services.register_asset(
                boss,
                asset_type=AssetType.objects.get(code=type_code),
                make=make,
                model_name=model,
                serial=serial,
                device_id=device_id or "",
                firmware="1.0.0-demo",
                sim_details=f"ICCID 8944 0000 0000 0000 {number:03d} (demo)" if device_id else "",
                ip_details=f"10.255.0.{number} (demo)" if device_id else "",
            )
        )
    kit = services.create_kit(
        boss, name="Home alarm kit (demo)", description="Panel and panic button", assets=assets[3:5]
    )
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    live = services.create_deployment(
        boss,
        title="Fit home alarm (demo)",
        objective="Install panic alarm and panel at a fictional address",
        install_address="1 Nowhere Lane, Fictionton FT1 1AA",
        site_risk_notes="Dog on premises (fictional)",
        operation_name="Operation Papier-mache",
        starts_at=now - dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=3),
        overnight_stays=2,
    )
    services.add_team_member(boss, live.pk, tech, TeamPlace.LEAD)
    services.assign_kit(boss, live.pk, kit)
    later = services.create_deployment(
        boss,
        title="Vehicle tracker fit (demo)",
        objective="Fit a tracker to a fictional vehicle",
        install_address="Car park, 2 Imaginary Road",
        starts_at=now + dt.timedelta(days=10),
        ends_at=now + dt.timedelta(days=12),
    )
    services.add_team_member(boss, later.pk, tech, TeamPlace.TECHNICIAN)
    services.assign_asset(boss, later.pk, assets[0])
    signature = tech.get_full_name() or tech.username
    services.record_custody(tech, assets[3].pk, kind="issued", signature=signature)
    services.record_custody(
        tech, assets[3].pk, kind="deployed", signature=signature, deployment_id=live.pk
    )
    return boss, tech

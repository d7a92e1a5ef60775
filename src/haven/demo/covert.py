"""Synthetic demo data for the covert side of operations: a Teltonika tracker (by IMEI, on the
Codec 8 port) fitted on a covert deployment under a property interference authorisation that
expires within the reminder notice, with a recorded track and one report from before the
authority (kept apart in quarantine; the supervisors are told).

Everything is fictional: the IMEI is well formed but invented, the places are open country in
the middle of England, the reference and the officer are made up. Needs the demo account
`supervisor`; safe to run twice."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from haven.accounts.models import User
from haven.accounts.roles import Role
from haven.authorisations import services as authorisations
from haven.authorisations.models import Authorisation, AuthorisationKind
from haven.equipment import services as equipment
from haven.equipment.models import AssetType
from haven.telemetry import services as telemetry
from haven.telemetry import teltonika
from haven.telemetry.protocols import OsmAndOptions

TELTONIKA_IMEI = "356307042441013"
DEMO_AUTHORISATION = "PI/DEMO/2026/001"
DEMO_COVERT_DEPLOYMENT = "Covert vehicle tracker (demo)"
# A lay-by and the lane north of it (fictional, about 2 km).
LAYBY = (52.9301, -1.5102)


def _user(username: str, role: str) -> User | None:
    user = User.objects.filter(username=username).first()
    return user if user is not None and user.has_role(role) else None


def create_demo_covert() -> Authorisation | None:
    """The covert tracker, its deployment and authority, its track; None if skipped."""
    boss = _user("supervisor", Role.TECHNICAL_SUPERVISOR)
    if boss is None:
        return None
    if Authorisation.objects.filter(reference=DEMO_AUTHORISATION).exists():
        return None
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    asset = equipment.register_asset(
        boss,
        asset_type=AssetType.objects.get(code="vehicle-tracker"),
        make="Teltonika",
        model_name="FMB920",
        serial="DEMO-TLT-0001",
        device_id=TELTONIKA_IMEI,  # the IMEI it sends in the Codec 8 handshake
        firmware="03.28.07-demo",
        sim_details="ICCID 8944 0000 0000 0000 101 (demo)",
        ip_details="10.255.1.1 (demo)",
    )
    deployment = equipment.create_deployment(
        boss,
        title=DEMO_COVERT_DEPLOYMENT,
        objective="Track a fictional suspect's vehicle under property interference authority",
        install_address="Lay-by on a fictional lane, Fictionshire",
        operation_name="Operation Cardboard",
        starts_at=now - dt.timedelta(days=20),
        ends_at=now + dt.timedelta(days=3),
    )
    # The demo technician is on the home alarm fit at the same time: the supervisor (on the
    # team as supervising officer) fitted this one.
    equipment.assign_asset(boss, deployment.pk, asset)
    signature = boss.get_full_name() or boss.username
    equipment.record_custody(boss, asset.pk, kind="issued", signature=signature)
    equipment.record_custody(
        boss, asset.pk, kind="deployed", signature=signature, deployment_id=deployment.pk
    )
    authorisation = authorisations.record_authorisation(
        boss,
        reference=DEMO_AUTHORISATION,
        kind=AuthorisationKind.PROPERTY_INTERFERENCE,
        authorising_officer="Ch Supt Ada Fictionalperson (demo)",
        granted_at=now - dt.timedelta(days=21),
        expires_at=now + dt.timedelta(days=4),  # inside the reminder notice: renew or cancel
        summary="Tracking device on a fictional suspect's vehicle (demo)",
        next_review_at=now + dt.timedelta(days=2),
    )
    device = telemetry.find_device(TELTONIKA_IMEI)
    assert device is not None  # the equipment register made it a tracker
    device = telemetry.update_device(
        boss,
        device.pk,
        version=device.version,
        asset_id=device.asset_id,
        deployment_id=deployment.pk,
        name="Teltonika FMB920, covert vehicle (demo)",
    )
    authorisations.link(
        boss, authorisation.pk, label=deployment.reference, deployment_id=deployment.pk
    )
    authorisations.link(boss, authorisation.pk, label=TELTONIKA_IMEI, device_pk=device.pk)
    _record_track(authorisation.granted_at, now)
    # The scheduler sends this within the hour; the demo shows it at once.
    authorisations.remind_expiring()
    return authorisation


def _record_track(granted_at: dt.datetime, now: dt.datetime) -> None:
    """One report from before the grant (quarantined), then two hours ago a drive north from
    the lay-by with the ignition on, every 30 s: built as the tracker sends it (Codec 8 AVL
    records: ignition, movement, external voltage) and decoded by the receiver's own code."""
    records = [
        teltonika.encode_record(
            teltonika.CODEC_8,
            granted_at - dt.timedelta(hours=6),
            lat=LAYBY[0],
            lon=LAYBY[1],
            io={teltonika.IGNITION_IO: 0, teltonika.MOVEMENT_IO: 0, 66: 12600},
        )
    ]
    start = now - dt.timedelta(hours=2)
    for step in range(40):
        moving = 5 <= step < 35
        share = min(max(step - 5, 0), 30) / 30
        records.append(
            teltonika.encode_record(
                teltonika.CODEC_8,
                start + dt.timedelta(seconds=30 * step),
                lat=LAYBY[0] + 0.018 * share,
                lon=LAYBY[1] + 0.004 * share,
                io={
                    teltonika.IGNITION_IO: int(moving),
                    teltonika.MOVEMENT_IO: int(moving),
                    66: 12600 if moving else 12400,
                },
                speed_kmh=43 if moving else 0,
            )
        )
    packet = teltonika.parse_packet(teltonika.encode_packet(teltonika.CODEC_8, records))
    options = OsmAndOptions(now=timezone.now())
    telemetry.ingest_batch(
        [teltonika.record_message(TELTONIKA_IMEI, record, options) for record in packet.records]
    )

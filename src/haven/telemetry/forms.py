"""Escalation-policy forms (technical supervisors); device and zone forms (operations)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models

from haven.accounts.roles import Module
from haven.ui.forms import GovukForm, date_field, people_choices

from .models import CaseTeamRole, DeviceKind, FenceKind, PolicySource, SpeedUnit, TargetKind


class PolicyForm(GovukForm):
    name = forms.CharField(max_length=120)
    description = forms.CharField(max_length=300, required=False)
    repeat = forms.IntegerField(
        min_value=0,
        max_value=10,
        initial=0,
        label="Repeat",
        help_text="How many more times to page the steps from step 1 if nobody acknowledges",
    )
    is_default = forms.BooleanField(
        required=False,
        label="Default policy",
        help_text="Used for every alert whose device, deployment or case has no policy",
    )


class StepForm(GovukForm):
    delay_minutes = forms.IntegerField(
        min_value=0,
        max_value=1440,
        initial=5,
        label="Minutes to acknowledge",
        help_text="How long this step's people have before the next step is paged",
    )
    rota_name = forms.ChoiceField(required=False, label="Whoever is on call on")
    user = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Person")
    team_roles = forms.MultipleChoiceField(
        required=False,
        choices=CaseTeamRole.choices,
        widget=forms.CheckboxSelectMultiple,
        label="Roles on the protected person's case team",
    )
    supervisors = forms.BooleanField(required=False, label="Every technical supervisor")

    def __init__(self, *args: Any, rota_names: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rota_name"].choices = [("", "Nobody")] + [(n, n) for n in rota_names]  # type: ignore[attr-defined]
        self.fields["user"].choices = [("", "Nobody")] + people_choices(Module.OPERATIONS)  # type: ignore[attr-defined]

    def targets(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        found: list[dict[str, Any]] = []
        if data.get("rota_name"):
            found.append({"kind": TargetKind.ON_CALL, "rota_name": data["rota_name"]})
        if data.get("user"):
            found.append({"kind": TargetKind.USER, "user_id": data["user"]})
        found += [{"kind": TargetKind.CASE_TEAM, "team_role": r} for r in data["team_roles"]]
        if data.get("supervisors"):
            found.append({"kind": TargetKind.SUPERVISORS})
        return found


class AssignForm(GovukForm):
    source = forms.ChoiceField(label="Use this policy for")

    def __init__(self, *args: Any, sources: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", "Choose…")] + sources  # type: ignore[attr-defined]

    def chosen(self) -> tuple[str, str]:
        kind, _, source_id = self.cleaned_data["source"].partition(":")
        return PolicySource(kind), source_id


# ------------------------------------------------------------------------ devices and zones


class DeviceForm(GovukForm):
    """Register or change a tracker or alarm. The choices are what the user can see: assets
    of the equipment register that report with a device id, open deployments, rotas."""

    device_id = forms.CharField(
        max_length=80,
        label="Device identifier",
        help_text="What the device reports with (Traccar Client: its identifier; OsmAnd: id=)",
    )
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=DeviceKind.choices, label="Kind of device")
    protects_person = forms.BooleanField(
        required=False,
        label="Protects a person",
        help_text="Its positions are encrypted and only supervisors and its alerts' recipients "
        "may read them",
    )
    asset = forms.ChoiceField(required=False, label="Equipment register asset")
    deployment = forms.ChoiceField(
        required=False,
        label="Fitted on deployment",
        help_text="Ties the device to the deployment and to the case it protects. Empty: the "
        "deployment its asset is on now, if any",
    )
    rota_name = forms.ChoiceField(required=False, label="Alerts go to whoever is on call on")
    speed_unit = forms.ChoiceField(choices=SpeedUnit.choices, initial=SpeedUnit.KNOTS)
    expected_interval_s = forms.IntegerField(
        required=False,
        min_value=10,
        max_value=7 * 24 * 3600,
        label="Reporting interval in seconds",
        help_text="Offline after this long without a report (empty: the configured 600 s)",
    )

    def __init__(
        self,
        *args: Any,
        assets: list[tuple[str, str]],
        deployments: list[tuple[str, str]],
        rota_names: list[str],
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["asset"].choices = [("", "None")] + assets  # type: ignore[attr-defined]
        self.fields["deployment"].choices = [("", "None")] + deployments  # type: ignore[attr-defined]
        self.fields["rota_name"].choices = [("", "Nobody (the supervisors)")] + [  # type: ignore[attr-defined]
            (n, n) for n in rota_names
        ]
        if editing:  # the reporting id is the device: a new id is a new registration
            del self.fields["device_id"]

    def service_values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["asset_id"] = data.pop("asset") or None
        data["deployment_id"] = data.pop("deployment") or None
        return data


class ZoneShape(models.TextChoices):
    CIRCLE = "circle", "Circle: a centre and a radius"
    POLYGON = "polygon", "Polygon: a list of corners"


class GeofenceForm(GovukForm):
    """A zone, drawn on the map or typed in: the map's drawing tools fill these same fields."""

    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=FenceKind.choices, widget=forms.RadioSelect, label="Kind")
    shape = forms.ChoiceField(
        choices=ZoneShape.choices, widget=forms.RadioSelect, initial=ZoneShape.CIRCLE
    )
    lat = forms.FloatField(
        required=False, min_value=-90, max_value=90, label="Centre latitude (circle)"
    )
    lon = forms.FloatField(
        required=False, min_value=-180, max_value=180, label="Centre longitude (circle)"
    )
    radius_m = forms.FloatField(
        required=False, min_value=1, max_value=100_000, label="Radius in metres (circle)"
    )
    points = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        label="Corners (polygon)",
        help_text="One corner a line: latitude, longitude (at least 3)",
    )
    attached_to = forms.ChoiceField(
        required=False,
        label="Applies to",
        help_text="Empty: every device",
    )
    hysteresis_m = forms.FloatField(
        required=False,
        min_value=0,
        max_value=1000,
        label="Margin in metres",
        help_text="How far past the edge (beyond the fix's accuracy) a device must be before it "
        "counts as across. Empty: the configured 15 m",
    )
    dwell_s = forms.IntegerField(
        min_value=0,
        max_value=24 * 3600,
        label="Dwell time in seconds",
        help_text="How long a device must stay across before an entry or exit alerts (0: at once)",
    )

    def __init__(self, *args: Any, targets: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attached_to"].choices = [("", "Every device")] + targets  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("shape") == ZoneShape.POLYGON:
            data["corners"] = self._corners(data.get("points") or "")
        else:
            for name in ("lat", "lon", "radius_m"):
                if data.get(name) is None and name not in self.errors:
                    self.add_error(
                        name, f"Enter the {self.fields[name].label}".replace(" (circle)", "")
                    )
        return data

    def _corners(self, text: str) -> list[tuple[float, float]]:
        corners = []
        for number, line in enumerate(text.replace(";", "\n").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                lat, lon = (float(part) for part in line.split(","))
            except ValueError:
                self.add_error("points", f"Line {number}: enter latitude, longitude")
                return []
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                self.add_error("points", f"Line {number}: not a place on Earth")
                return []
            corners.append((lat, lon))
        if len(corners) < 3:
            self.add_error("points", "Enter at least 3 corners")
        return corners

    def area(self) -> dict[str, Any]:
        data = self.cleaned_data
        if data["shape"] == ZoneShape.POLYGON:
            return {"polygon": [[lat, lon] for lat, lon in data["corners"]]}
        return {"circle": {"lat": data["lat"], "lon": data["lon"], "radius_m": data["radius_m"]}}

    def attachment(self) -> tuple[str, str]:
        kind, _, target = (self.cleaned_data.get("attached_to") or "").partition(":")
        return kind, target


# The days of a device's trips and stops report as GOV.UK date inputs; `from` is a Python
# keyword, so the class is built from a namespace.
ReportPeriodForm: type[GovukForm] = type(
    "ReportPeriodForm",
    (GovukForm,),
    {
        "__module__": __name__,
        "from": date_field("From", required=False),
        "to": date_field("To", required=False),
    },
)

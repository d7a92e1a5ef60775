from __future__ import annotations

from typing import Any

from django import forms

from haven.accounts.roles import Clearance, Module
from haven.ui.forms import (
    DateInput,
    DateTimeLocal,
    GovukForm,
    ReferenceField,
    VersionedForm,
    optional_notes,
    people_choices,
    reason_field,
    sort_choice,
)

from .models import Asset, AssetState, AssetType, CustodyKind, DeploymentStatus, KitList, TeamPlace


def operations_people() -> list[tuple[int, str]]:
    return people_choices(Module.OPERATIONS)


class AssetSearchForm(GovukForm):
    q = forms.CharField(label="Serial, device id, make or model", required=False, max_length=80)
    state = forms.ChoiceField(
        label="State", required=False, choices=[("", "Any state"), *AssetState.choices]
    )
    asset_type = forms.ChoiceField(label="Type", required=False, choices=[])
    holder = forms.ChoiceField(
        label="Held by",
        required=False,
        choices=[("", "Anyone or anywhere"), ("me", "Me"), ("store", "The store")],
    )
    sort = sort_choice(
        [
            ("serial", "Serial"),
            ("type", "Type"),
            ("state", "State"),
            ("updated", "Recently changed"),
        ]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["asset_type"].choices = [  # type: ignore[attr-defined]
            ("", "Any type"),
            *AssetType.objects.values_list("code", "name"),
        ]


class DeviceDetailsForm(GovukForm):
    """An asset's device details, asked the same way when it is registered and corrected."""

    device_id = forms.CharField(
        label="Device id",
        max_length=80,
        required=False,
        help_text="What the device reports with (tracker unique id); leave blank if none",
    )
    firmware = forms.CharField(max_length=80, required=False)
    sim_details = optional_notes(
        "SIM details", 500, "Encrypted; shown only to supervisors and whoever holds the item"
    )
    ip_details = optional_notes("IP / network details", 500)


class AssetForm(DeviceDetailsForm):
    field_order = ["asset_type", "make", "model_name", "serial"]  # then the device details

    asset_type = forms.ModelChoiceField(
        label="Type", queryset=AssetType.objects.filter(active=True)
    )
    make = forms.CharField(max_length=80)
    model_name = forms.CharField(label="Model", max_length=80)
    serial = forms.CharField(label="Serial number", max_length=80)
    state = forms.ChoiceField(
        label="State",
        choices=[
            (s, AssetState(s).label)
            for s in (AssetState.PROCURED, AssetState.IN_STOCK, AssetState.CONFIGURED)
        ],
        initial=AssetState.IN_STOCK,  # a safe default: kit arrives into the store
        widget=forms.RadioSelect,
    )
    notes = forms.CharField(required=False, max_length=500)


class CustodyForm(GovukForm):
    kind = forms.ChoiceField(
        label="What is happening",
        choices=[
            (k, CustodyKind(k).label) for k in CustodyKind.values if k != CustodyKind.RECEIVED
        ],
        widget=forms.RadioSelect,
    )
    from_user = forms.TypedChoiceField(
        label="Handed over by (for a hand-over)", required=False, coerce=int, empty_value=None
    )
    deployment = forms.ChoiceField(label="Deployment (to deploy or recover)", required=False)
    location = forms.CharField(label="Where", max_length=200, required=False)
    note = forms.CharField(required=False, max_length=500)
    signature = forms.CharField(
        label="Signature",
        max_length=150,
        help_text="Type your full name to sign: this confirms the hand-over",
    )
    confirm = forms.BooleanField(label="I confirm this hand-over is true and complete")

    def __init__(
        self, *args: Any, deployments: list[tuple[str, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from_user"].choices = [("", "Nobody (not a hand-over)"), *operations_people()]  # type: ignore[attr-defined]
        self.fields["deployment"].choices = [("", "None"), *(deployments or [])]  # type: ignore[attr-defined]


class AssetCorrectionForm(DeviceDetailsForm):
    """An asset's changeable details, with the version read and a reason (the values replaced
    are kept as the asset's history)."""

    field_order = ["version"]  # then the device details

    version = forms.IntegerField(widget=forms.HiddenInput)
    notes = optional_notes("Notes", 500)
    reason = reason_field(
        "Why are you correcting this asset?",
        "Say why the asset's details are being changed",
        help_text="Kept with the asset's history and in the audit ledger",
    )


class AssetTypeCorrectionForm(VersionedForm):
    name = forms.CharField(max_length=80)
    description = forms.CharField(max_length=200, required=False)
    trackable = forms.BooleanField(
        label="Reports positions or alarms", required=False, widget=forms.CheckboxInput
    )
    reason = reason_field(
        "Why are you changing this kind of kit?",
        "Say why the kind of kit is being changed",
    )


class AssetTypeRetireForm(VersionedForm):
    reason = reason_field(
        "Why is this kind of kit being retired?",
        "Say why the kind of kit is being retired",
    )


class StateForm(GovukForm):
    state = forms.ChoiceField(label="New state", choices=AssetState.choices)
    reason = forms.CharField(max_length=300)


class KitForm(GovukForm):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, max_length=500)
    assets = forms.ModelMultipleChoiceField(
        queryset=Asset.objects.none(), widget=forms.CheckboxSelectMultiple, label="Assets"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assets"].queryset = Asset.objects.exclude(  # type: ignore[attr-defined]
            state__in=[AssetState.RETIRED, AssetState.DESTROYED]
        ).select_related("asset_type")


class DeploymentSearchForm(GovukForm):
    q = forms.CharField(label="Reference, title or operation", required=False, max_length=80)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *DeploymentStatus.choices]
    )
    sort = sort_choice(
        [
            ("-starts", "Latest first"),
            ("starts", "Earliest first"),
            ("reference", "Reference"),
        ]
    )


class PeriodForm(GovukForm):
    """A deployment's period: planned with the deployment, changed on its page (which fills in
    the period it has now). The service's own period check is made here too, so that it is in
    the first error summary with every other mistake instead of appearing only once they are
    put right."""

    starts_at = forms.DateTimeField(label="Starts", widget=DateTimeLocal())
    ends_at = forms.DateTimeField(label="Ends", widget=DateTimeLocal())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", "The deployment must end after it starts")
        return data


class DeploymentForm(PeriodForm):
    # The period (PeriodForm's) stays after the notes, as the plan form has always shown it.
    field_order = (
        "title",
        "objective",
        "operation_name",
        "case_id",
        "install_address",
        "site_risk_notes",
        "starts_at",
        "ends_at",
    )
    title = forms.CharField(max_length=120)
    objective = forms.CharField(widget=forms.Textarea, max_length=4000)
    operation_name = forms.CharField(label="Operation", required=False, max_length=120)
    case_id = ReferenceField(
        "case",
        "HVN-2026-00052",
        label="Linked protection case (optional)",
        required=False,
        help_text="The case reference, for example HVN-2026-00052: only the link is kept, no "
        "details of the protected person are copied here",
    )
    install_address = optional_notes(
        "Install address", 1000, "Encrypted; shown only to the deployment team"
    )
    site_risk_notes = optional_notes("Site risk notes", 4000)
    overnight_stays = forms.IntegerField(
        label="Overnight stays", min_value=0, max_value=60, initial=0
    )
    classification = forms.TypedChoiceField(
        label="Classification",
        choices=Clearance.choices,
        coerce=int,
        initial=Clearance.OFFICIAL,
        widget=forms.RadioSelect,  # as on the referral form
    )


class TeamForm(GovukForm):
    user = forms.TypedChoiceField(label="Colleague", coerce=int)
    place = forms.ChoiceField(
        label="Place on the team",
        choices=TeamPlace.choices,
        initial=TeamPlace.TECHNICIAN,  # the least a member may do
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = operations_people()  # type: ignore[attr-defined]


class AssignForm(GovukForm):
    asset = forms.ModelChoiceField(label="Asset", queryset=Asset.objects.none(), required=False)
    kit = forms.ModelChoiceField(
        label="or a whole kit list", queryset=KitList.objects.all(), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["asset"].queryset = Asset.objects.filter(  # type: ignore[attr-defined]
            state__in=[
                AssetState.IN_STOCK,
                AssetState.CONFIGURED,
                AssetState.RECOVERED,
                AssetState.DEPLOYED,
            ]
        ).select_related("asset_type")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("asset") and not data.get("kit"):
            raise forms.ValidationError("Choose an asset or a kit list")
        return data


class RemoveKitForm(VersionedForm):
    reason = reason_field(
        "Why is this asset coming off the deployment?",
        "Say why the asset is coming off the deployment",
        help_text="Kept with the deployment's kit history and in the audit ledger",
        max_length=500,
    )


class StatusForm(GovukForm):
    status = forms.ChoiceField(
        label="New status", choices=DeploymentStatus.choices, widget=forms.RadioSelect
    )
    outcome = optional_notes("Outcome", 4000)


class ChecklistForm(GovukForm):
    which = forms.ChoiceField(choices=[("install", "Install"), ("recovery", "Recovery")])
    index = forms.IntegerField(min_value=0)
    done = forms.BooleanField(required=False)


class CalendarForm(GovukForm):
    start = forms.DateField(label="From", required=False, widget=DateInput())
    days = forms.IntegerField(label="Days", required=False, min_value=1, max_value=62)

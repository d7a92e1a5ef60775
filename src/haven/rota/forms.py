from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.utils import timezone

from haven.accounts.roles import Module
from haven.ui.forms import (
    DateInput,
    DateTimeLocal,
    GovukForm,
    VersionedForm,
    people_choices,
    reason_field,
)

from .models import (
    AllowanceBasis,
    AllowanceTier,
    RestException,
    Rotation,
    WeeklyRestOption,
    WorkKind,
)

DAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", **kwargs)


def local_naive(value: dt.datetime) -> dt.datetime:
    """A form's aware datetime back to the wall-clock time the person typed."""
    return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value


class RotaForm(GovukForm):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, max_length=500)
    time_zone = forms.ChoiceField(label="Time zone", initial="Europe/London", choices=[])
    starts_on = forms.DateField(label="Starts on", widget=DateInput())
    ends_on = forms.DateField(label="Ends on", required=False, widget=DateInput())
    allowance_tier = forms.ModelChoiceField(
        label="Allowance tier", queryset=AllowanceTier.objects.all(), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc"))
        self.fields["time_zone"].choices = [(z, z) for z in zones]  # type: ignore[attr-defined]


class LayerForm(GovukForm):
    name = forms.CharField(max_length=80)
    priority = forms.IntegerField(
        min_value=1, max_value=99, initial=1, help_text="Higher wins where layers overlap"
    )
    rotation = forms.ChoiceField(choices=Rotation.choices, initial=Rotation.WEEKLY)
    handover_time = forms.TimeField(
        label="Hand-over time (local)", widget=TimeInput(), initial=dt.time(9)
    )
    starts_on = forms.DateField(label="First hand-over on", required=False, widget=DateInput())
    ends_on = forms.DateField(label="Last day", required=False, widget=DateInput())
    members = forms.TypedMultipleChoiceField(
        label="People, in rotation order", coerce=int, widget=forms.CheckboxSelectMultiple
    )
    days_of_week = forms.TypedMultipleChoiceField(
        label="Only shifts starting on (none ticked: every day)",
        choices=DAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, module: Module = Module.OPERATIONS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The rota's staff group: only its people may be chosen.
        self.fields["members"].choices = people_choices(module)  # type: ignore[attr-defined]


class SpanForm(GovukForm):
    """Local wall-clock start and end, read in the rota's time zone."""

    starts_at = forms.DateTimeField(label="From (local time)", widget=DateTimeLocal())
    ends_at = forms.DateTimeField(label="To (local time)", widget=DateTimeLocal())

    def instants(self, zone: Any) -> tuple[dt.datetime, dt.datetime]:
        start = local_naive(self.cleaned_data["starts_at"]).replace(tzinfo=zone)
        end = local_naive(self.cleaned_data["ends_at"]).replace(tzinfo=zone)
        return start, end


class OverrideForm(SpanForm):
    user = forms.TypedChoiceField(label="Who covers", coerce=int)
    reason = forms.CharField(max_length=300)

    def __init__(self, *args: Any, module: Module = Module.OPERATIONS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The rota's staff group: only its people may be chosen.
        self.fields["user"].choices = people_choices(module)  # type: ignore[attr-defined]


class SwapForm(SpanForm):
    counterpart = forms.TypedChoiceField(label="Colleague to cover", coerce=int)
    reason = forms.CharField(max_length=300, required=False)

    def __init__(self, *args: Any, module: Module = Module.OPERATIONS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The rota's staff group: only its people may be chosen.
        self.fields["counterpart"].choices = people_choices(module)  # type: ignore[attr-defined]


class RangeForm(GovukForm):
    start = forms.DateField(label="From", required=False, widget=DateInput())
    days = forms.IntegerField(label="Days", required=False, min_value=1, max_value=62)


class MonthForm(GovukForm):
    month = forms.DateField(
        label="Month",
        required=False,
        input_formats=["%Y-%m"],
        widget=forms.DateInput(format="%Y-%m"),
    )


class TierForm(GovukForm):
    code = forms.SlugField(max_length=40)
    name = forms.CharField(max_length=120)
    basis = forms.ChoiceField(choices=AllowanceBasis.choices)
    daily_amount = forms.DecimalField(
        label="Amount per day (£)", required=False, max_digits=8, decimal_places=2
    )
    percentage = forms.DecimalField(
        label="Percentage", required=False, max_digits=5, decimal_places=2
    )
    citation = forms.CharField(max_length=300, help_text="Where this figure comes from")
    notes = forms.CharField(required=False, max_length=500)


class WorkForm(GovukForm):
    person = forms.TypedChoiceField(label="Person", coerce=int)
    starts_at = forms.DateTimeField(label="Started", widget=DateTimeLocal())
    ends_at = forms.DateTimeField(label="Finished", widget=DateTimeLocal())
    break_minutes = forms.IntegerField(
        label="Breaks (minutes)", min_value=0, max_value=1440, initial=0
    )
    kind = forms.ChoiceField(choices=WorkKind.choices)
    note = forms.CharField(required=False, max_length=300)

    def __init__(self, *args: Any, module: Module = Module.OPERATIONS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = people_choices(module)  # type: ignore[attr-defined]


class WelfareNoteForm(GovukForm):
    text = forms.CharField(
        label="Welfare note",
        help_text="For example a welfare check-in, support agreed or a referral to occupational "
        "health. Only you, other supervisors of this group and the person can read it.",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class WelfareNoteCorrectionForm(VersionedForm, WelfareNoteForm):
    """A welfare note's text corrected, with the version read and a reason (the text replaced
    is kept as the note's history)."""

    reason = reason_field(
        "Why are you correcting this note?",
        "Say why the note is being corrected",
        help_text="Kept with the note's history and in the audit ledger",
    )


class WithdrawWelfareNoteForm(VersionedForm):
    reason = reason_field(
        "Why is this note being withdrawn?",
        "Say why the note is being withdrawn",
        help_text="For example: written about the wrong person. Kept with the note's history "
        "and in the audit ledger",
    )


class PsychForm(GovukForm):
    assessed_on = forms.DateField(label="Last psychological assessment", widget=DateInput())


class TermsForm(GovukForm):
    employment_started_on = forms.DateField(
        label="Started work for the employer", required=False, widget=DateInput()
    )
    opt_out_signed_on = forms.DateField(
        label="Written opt-out of the 48-hour average signed (reg 5)",
        required=False,
        widget=DateInput(),
    )
    opt_out_ended_on = forms.DateField(label="Opt-out ended", required=False, widget=DateInput())
    weekly_rest_option = forms.ChoiceField(
        label="Weekly rest", choices=WeeklyRestOption.choices, initial=WeeklyRestOption.WEEKLY
    )


class LeaveForm(GovukForm):
    starts_on = forms.DateField(label="Leave from", widget=DateInput())
    ends_on = forms.DateField(
        label="Leave until (inclusive)",
        widget=DateInput(),
        help_text="Annual, sick or family leave: excluded from the 48-hour average (reg 4(7))",
    )


class CompensatoryRestForm(GovukForm):
    rule_code = forms.ChoiceField(
        label="Rest displaced",
        choices=[
            ("daily_rest", "Daily rest (reg 10)"),
            ("weekly_rest", "Weekly rest (reg 11)"),
            ("rest_break", "Rest break (reg 12)"),
        ],
    )
    breach_on = forms.DateField(label="Day of the breach", widget=DateInput())
    hours = forms.DecimalField(
        label="Hours of compensatory rest given", min_value=0.5, max_value=96, decimal_places=1
    )
    exception = forms.ChoiceField(label="Exception relied on", choices=RestException.choices)

from __future__ import annotations

from typing import Any

from django import forms

from haven.ui.forms import DateInput, GovukForm, VersionedForm, reason_field

from .config import NDM_STAGES
from .models import MeasureStatus, NoticeDecision, NoticeKind
from .selectors import PortfolioCursor

SCORE_CHOICES = [(str(n), str(n)) for n in range(1, 6)]
TEXT = {"widget": forms.Textarea, "required": False, "max_length": 10_000}


def score_field(label: str, required: bool = True) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=SCORE_CHOICES,  # five scores: radios, none chosen until the user decides
        widget=forms.RadioSelect,
        required=required,
        help_text="1 (lowest) to 5 (highest)",
        error_messages={"required": f"Choose the {label.lower()} from 1 to 5"},
    )


class AssessmentForm(GovukForm):
    thrive_threat = forms.CharField(label="Threat", **TEXT)  # type: ignore[arg-type]
    thrive_harm = forms.CharField(label="Harm", **TEXT)  # type: ignore[arg-type]
    thrive_risk = forms.CharField(label="Risk", **TEXT)  # type: ignore[arg-type]
    thrive_investigation = forms.CharField(label="Investigation", **TEXT)  # type: ignore[arg-type]
    thrive_vulnerability = forms.CharField(label="Vulnerability", **TEXT)  # type: ignore[arg-type]
    thrive_engagement = forms.CharField(label="Engagement", **TEXT)  # type: ignore[arg-type]
    likelihood = score_field("Likelihood")
    impact = score_field("Impact")
    residual_likelihood = score_field("Likelihood after controls")
    residual_impact = score_field("Impact after controls")
    threat_to_life = forms.BooleanField(label="There is a threat to life", required=False)
    osman_real_immediate = forms.CharField(label="Why the risk is real and immediate", **TEXT)  # type: ignore[arg-type]
    osman_identified_individual = forms.CharField(label="The identified individual", **TEXT)  # type: ignore[arg-type]
    osman_third_party = forms.CharField(
        label="The criminal acts of a third party it comes from",
        **TEXT,  # type: ignore[arg-type]
    )
    social_services_informed = forms.BooleanField(
        label="Social services told (children or dependants involved)", required=False
    )

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for name in ("likelihood", "impact", "residual_likelihood", "residual_impact"):
            data[name] = int(data[name]) if data.get(name) else None
        return data


class ThreatForm(GovukForm):
    source = forms.CharField(label="Source of the threat", widget=forms.Textarea, max_length=10_000)
    capability = forms.CharField(label="Capability", **TEXT)  # type: ignore[arg-type]
    intent = forms.CharField(label="Intent", **TEXT)  # type: ignore[arg-type]
    linked_people = forms.CharField(
        label="Linked people",
        required=False,
        max_length=2000,
        help_text="Names or person references, separated by commas",
    )
    likelihood = score_field("Likelihood")
    impact = score_field("Impact")
    residual_likelihood = score_field("Likelihood after controls", required=False)
    residual_impact = score_field("Impact after controls", required=False)


class VulnerabilityForm(GovukForm):
    description = forms.CharField(label="Vulnerability", widget=forms.Textarea, max_length=10_000)


CORRECTION_HELP = "Kept with the record's history and in the audit ledger"


def correction_reason(question: str) -> forms.CharField:
    """The reason a threat or vulnerability is corrected or ended, kept with its history."""
    return reason_field(question, "Say why the record is being changed", help_text=CORRECTION_HELP)


class ThreatCorrectionForm(VersionedForm, ThreatForm):
    reason = correction_reason("Why are you correcting this threat?")


class VulnerabilityCorrectionForm(VersionedForm, VulnerabilityForm):
    reason = correction_reason("Why are you correcting this vulnerability?")


class EndRiskItemForm(VersionedForm):
    """A threat withdrawn or a vulnerability that no longer applies: kept, shown apart."""

    reason = correction_reason("Why does this no longer apply?")


class NoticeForm(GovukForm):
    # Short lists: GOV.UK radios, none chosen until the user decides (issue 20).
    kind = forms.ChoiceField(label="Notice", choices=NoticeKind.choices, widget=forms.RadioSelect)
    recipient = forms.CharField(label="Who the notice is for", max_length=500)
    decision = forms.ChoiceField(
        label="Served or not", choices=NoticeDecision.choices, widget=forms.RadioSelect
    )
    served_by = forms.CharField(label="Served by", required=False, max_length=200)
    served_at = forms.DateTimeField(
        label="Served at",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="For example 2026-03-01 14:30",
    )
    withheld_reason = forms.CharField(label="Reason for not serving", **TEXT)  # type: ignore[arg-type]


class CommentsForm(GovukForm):
    comments = forms.CharField(label="Comments", **TEXT)  # type: ignore[arg-type]


class MeasureForm(GovukForm):
    measure_type = forms.ChoiceField(label="Measure")
    details = forms.CharField(label="Details", **TEXT)  # type: ignore[arg-type]
    controls = forms.CharField(
        label="Risks it controls", required=False, max_length=200, help_text="For example R1, R2"
    )
    owner = forms.ChoiceField(label="Owner")
    # What the user may record (permissions): radios, none chosen.
    status = forms.ChoiceField(label="Status", widget=forms.RadioSelect)
    starts_on = forms.DateField(label="Starts on", required=False, widget=DateInput())
    ends_on = forms.DateField(label="Ends on", required=False, widget=DateInput())
    cost = forms.DecimalField(
        label="Cost (£)", required=False, min_value=0, max_digits=12, decimal_places=2
    )

    def __init__(
        self,
        *args: Any,
        catalogue: list[Any],
        team: list[Any],
        statuses: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = statuses  # type: ignore[attr-defined]
        self.fields["measure_type"].choices = [("", "Choose")] + [  # type: ignore[attr-defined]
            (m.code, m.name) for m in catalogue
        ]
        self.fields["owner"].choices = [(str(u.pk), str(u)) for u in team]  # type: ignore[attr-defined]


class MeasureStatusForm(GovukForm):
    status = forms.ChoiceField(
        label="New status", choices=MeasureStatus.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(label="Reason", widget=forms.Textarea, max_length=10_000)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, moves: list[tuple[str, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if moves is not None:  # only the moves the user may make (permissions.measure_moves)
            self.fields["status"].choices = moves  # type: ignore[attr-defined]


class DecisionForm(GovukForm):
    decided_at = forms.DateTimeField(
        label="When the decision was made",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    decision_maker = forms.ChoiceField(label="Decision-maker")
    ndm_stage = forms.ChoiceField(
        label="National Decision Model stage", choices=NDM_STAGES, widget=forms.RadioSelect
    )
    decision = forms.CharField(label="Decision", widget=forms.Textarea, max_length=10_000)
    rationale = forms.CharField(label="Rationale", widget=forms.Textarea, max_length=10_000)
    options_rejected = forms.CharField(label="Options considered and rejected", **TEXT)  # type: ignore[arg-type]
    corrects = forms.ChoiceField(label="Corrects entry", required=False)

    def __init__(self, *args: Any, team: list[Any], entries: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["decision_maker"].choices = [(str(u.pk), str(u)) for u in team]  # type: ignore[attr-defined]
        self.fields["corrects"].choices = [("", "Not a correction")] + [  # type: ignore[attr-defined]
            (str(e.pk), f"Entry {e.sequence}") for e in entries
        ]


class CatalogueForm(GovukForm):
    name = forms.CharField(label="Measure", max_length=100)
    code = forms.SlugField(label="Code", required=False, max_length=40)
    description = forms.CharField(label="Description", required=False, max_length=300)


class CatalogueCorrectionForm(VersionedForm):
    name = forms.CharField(label="Measure", max_length=100)
    description = forms.CharField(label="Description", required=False, max_length=300)
    reason = reason_field(
        "Why are you changing this measure?", "Say why the measure is being changed"
    )


class CatalogueRetireForm(VersionedForm):
    reason = reason_field(
        "Why is this measure being retired?", "Say why the measure is being retired"
    )


class PortfolioForm(GovukForm):
    band = forms.CharField(required=False, max_length=20)
    show = forms.ChoiceField(
        required=False,
        choices=[
            ("all", "All"),
            ("overdue", "Overdue review"),
            ("due_soon", "Due in 14 days"),
            ("threat_to_life", "Threat to life"),
        ],
    )
    after = forms.CharField(required=False, max_length=120, widget=forms.HiddenInput)

    def clean_after(self) -> PortfolioCursor | None:
        text = self.cleaned_data["after"]
        if not text:
            return None
        try:
            return PortfolioCursor.decode(text)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

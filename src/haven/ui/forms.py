"""Form base class giving GOV.UK-style error messages ("Enter …", "Select …"), date widgets
that browsers understand, and the choice list of a module's people."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from django import forms

from haven.access.modules import module_people
from haven.accounts.roles import Module
from haven.concurrency import references
from haven.ui.bounds import check_within_calendar
from haven.vault.blind_index import normalise_name

CHOOSE_WIDGETS = (
    forms.Select,
    forms.RadioSelect,
    forms.CheckboxInput,
    forms.CheckboxSelectMultiple,
)
DJANGO_REQUIRED = forms.Field.default_error_messages["required"]
# Django's "Ensure this value has at most…" in GOV.UK words: (code, Django's default, ours).
LIMIT_MESSAGES = [
    ("max_length", None, "must be %(limit_value)d characters or fewer"),
    ("min_length", None, "must be %(limit_value)d characters or more"),
    ("max_value", None, "must be %(limit_value)s or less"),
    ("min_value", None, "must be %(limit_value)s or more"),
]


def within_calendar(value: Any) -> None:
    """Every date and date-time field's bound (haven.ui.bounds), as a field error."""
    try:
        check_within_calendar(value)
    except ValueError as error:
        raise forms.ValidationError(f"The date {error}") from error


class GovukForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.DateField | forms.DateTimeField):
                # A date at the end of time overflows the date arithmetic behind the page.
                field.validators = [*field.validators, within_calendar]
            if (
                isinstance(field.widget, DateInput)
                and field.error_messages.get("invalid")
                == forms.DateField.default_error_messages["invalid"]
            ):
                field.error_messages["invalid"] = f"{field.label or 'The date'} must be a real date"
            name = str(field.label or "The value").rstrip("?")
            for code, django_says, we_say in LIMIT_MESSAGES:
                if field.error_messages.get(code, django_says) == django_says:
                    field.error_messages[code] = f"{name} {we_say}"
            if field.error_messages.get("required") != DJANGO_REQUIRED:
                continue  # the form already says something specific
            label = str(field.label or "a value")
            if not label[:2].isupper():  # keep acronyms such as "IOPC"
                label = label[0].lower() + label[1:]
            verb = "Select" if isinstance(field.widget, CHOOSE_WIDGETS) else "Enter"
            if isinstance(field.widget, forms.ClearableFileInput):
                verb = "Choose"
            field.error_messages["required"] = f"{verb} {label}"


class VersionedForm(GovukForm):
    """A change to a record: carries the version of the record the person read, so that a change
    made meanwhile by someone else is refused (haven.concurrency), never overwritten."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class DateTimeLocal(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class DateInput(forms.MultiWidget):
    """The GOV.UK date input: Day, Month and Year boxes in one fieldset
    (ui/includes/date_input.html), the one date widget of every form. The three boxes post
    `<name>_day`, `<name>_month` and `<name>_year`; they are joined into an ISO date for the
    DateField to clean, so a typed date that does not exist is refused as "… must be a real
    date". A single ISO value posted under the field's own name (a script, an older page) is
    still taken."""

    input_type = "govuk-date"
    PARTS = ("day", "month", "year")

    def __init__(self, attrs: dict[str, Any] | None = None, **_: Any) -> None:
        boxes: dict[str, forms.Widget | type[forms.Widget]] = {
            part: forms.TextInput(attrs={"inputmode": "numeric"}) for part in self.PARTS
        }
        super().__init__(boxes, attrs)

    def decompress(self, value: Any) -> list[Any]:
        if isinstance(value, date):
            return [value.day, value.month, value.year]
        if isinstance(value, str) and value.count("-") == 2:
            year, month, day = value.split("-")
            return [day, month, year.removeprefix("x")]
        return [None, None, None]

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        parts = [str(data.get(f"{name}_{part}", "")).strip() for part in self.PARTS]
        if not any(parts):
            return data.get(name)
        day, month, year = parts
        if len(year) != 4:
            year = f"x{year}"  # "26" is not a year: refused, not read as 0026
        return f"{year}-{month}-{day}"  # as typed: the DateField refuses what is not a date

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data and not any(f"{name}_{part}" in data for part in self.PARTS)


def date_parts(value: Any) -> dict[str, Any]:
    """Day, month and year of a date field's value, for the three boxes."""
    day, month, year = DateInput().decompress(value)
    return {"day": day, "month": month, "year": year}


def people_choices(module: Module) -> list[tuple[int, str]]:
    """Choices naming the active accounts whose roles open the module, by username."""
    return [(user.pk, f"{user} ({user.username})") for user in module_people(module)]


def is_yes(value: str) -> bool:
    return value == "yes"


def yes_no_choice(
    label: str, choices: list[tuple[str, str]], **kwargs: Any
) -> forms.TypedChoiceField:
    """A choice between "yes" and "no" options (in the order and words given) cleaned to a bool:
    GOV.UK radios (two options), unless a widget is given."""
    kwargs.setdefault("widget", forms.RadioSelect)
    return forms.TypedChoiceField(label=label, choices=choices, coerce=is_yes, **kwargs)


def only_filter(label: str, only: str) -> forms.TypedChoiceField:
    """An optional search filter: "All" (False), or only the rows `only` describes (True)."""
    return yes_no_choice(
        label,
        [("", "All"), ("yes", only)],
        required=False,
        empty_value=False,
        widget=forms.Select,  # a filter in a search form's row: a drop-down
    )


def sort_choice(orders: list[tuple[str, str]]) -> forms.ChoiceField:
    """The optional "Sort by" select of a search form; the first order is the default."""
    return forms.ChoiceField(label="Sort by", required=False, choices=orders)


def optional_notes(label: str, max_length: int, help_text: str = "") -> forms.CharField:
    """An optional free-text box (a textarea)."""
    return forms.CharField(
        label=label,
        required=False,
        widget=forms.Textarea,
        max_length=max_length,
        help_text=help_text,
    )


def reason_field(
    label: str,
    required_message: str,
    help_text: str = "Kept in the audit ledger",
    max_length: int = 2000,
) -> forms.CharField:
    """The required "why" of a correction, retirement or ending: a textarea whose text goes to
    the audit ledger (and the record's history where it has one)."""
    return forms.CharField(
        label=label,
        widget=forms.Textarea,
        max_length=max_length,
        help_text=help_text,
        error_messages={"required": required_message},
    )


class ReferenceField(forms.CharField):
    """Names a case, deployment or complaint by its reference (HVN-2026-00052), as people
    type and read it; an id is still accepted. Cleans to the object's id; shows the reference
    for an id it is given as initial value. Existence only: the service checks access."""

    def __init__(self, object_type: str, example: str, **kwargs: Any) -> None:
        self.object_type = object_type
        self.example = example
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("help_text", f"The reference, for example {example}")
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("spellcheck", "false")

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, UUID):
            return references.reference_for(self.object_type, value) or str(value)
        return value

    def clean(self, value: Any) -> UUID | None:  # type: ignore[override]
        text = super().clean(value)
        if not text:
            return None
        try:
            return references.object_id_for(text, self.object_type)
        except references.UnknownReference as unknown:
            raise forms.ValidationError(
                f"Enter a reference that exists, for example {self.example}"
            ) from unknown


class ExactNameField(forms.CharField):
    """An optional search by a person's exact name. The blind index keeps only letters and
    digits, so a name with none of them could never be found: it is refused on the form."""

    def __init__(self, label: str) -> None:
        super().__init__(label=label, required=False, max_length=200)

    def clean(self, value: Any) -> str:
        name = str(super().clean(value))
        if name and not normalise_name(name):
            raise forms.ValidationError("Enter a name with at least one letter")
        return name


def date_field(label: str, required: bool = True, **kwargs: Any) -> forms.DateField:
    """A date as GOV.UK asks for one: the day, month and year boxes of DateInput."""
    kwargs.setdefault("error_messages", {"invalid": f"{label} must be a real date"})
    return forms.DateField(
        label=label,
        required=required,
        widget=DateInput(),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        **kwargs,
    )

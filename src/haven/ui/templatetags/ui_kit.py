"""Template tags of the UI kit: `{% load ui_kit %}`."""

import logging
from collections.abc import Container, Sequence

from django import template
from django.forms import BaseForm, BoundField
from django.template.base import render_value_in_context
from django.template.defaultfilters import stringformat
from django.utils.safestring import SafeString, mark_safe

from haven.accounts.roles import Clearance
from haven.concurrency.references import reference_for
from haven.ui import answers, forms
from haven.ui.marking import Marking, page_marking

logger = logging.getLogger(__name__)

register = template.Library()


@register.inclusion_tag("ui/includes/field_row.html")
def field_row(form: BaseForm, names: str, width: str = "one-quarter") -> dict[str, object]:
    """One GOV.UK grid row of form fields side by side (a search or filter form):
    `{% field_row form "reference status" "one-third" %}`; `width` is the GOV.UK column class."""
    return {"fields": [form[name] for name in names.split()], "width": width}


@register.inclusion_tag("ui/includes/field_details.html")
def field_details(
    form: BaseForm, names: Sequence[str], summary: str, required: Container[str] = ()
) -> dict[str, object]:
    """An optional part of a form, its fields in a GOV.UK details with `summary` as its link:
    `{% field_details form form.TRANSFER "Transfer" rule.required_fields %}`. Open when
    `required` (what the chosen action requires) names its first field or that field has an
    error."""
    fields = [form[name] for name in names]
    return {
        "fields": fields,
        "summary": summary,
        "open": fields[0].name in required or bool(fields[0].errors),
    }


@register.simple_tag(takes_context=True)
def select_options(context: template.Context, field: BoundField) -> SafeString:
    """A select's options, the field's value selected (ui/includes/field.html). Written here, not
    as a `{% for %}` in the template: a filter form's selects have some twenty options a page
    between them, and the loop, its `if` and filters were a tenth of the case list's rendering.
    Each value and label is rendered as `{{ value }}` would render it (localised, escaped)."""
    current = stringformat(field.value(), "s")
    return mark_safe(  # noqa: S308 - every value and label is escaped by render_value_in_context
        "".join(
            f'<option value="{render_value_in_context(value, context)}"'
            f"{' selected' if current == stringformat(value, 's') else ''}>"
            f"{render_value_in_context(label, context)}</option>"
            for value, label in field.field.choices  # type: ignore[attr-defined]
        )
    )


@register.filter
def reference_of(object_id: object, object_type: str) -> str:
    """The reference people read for an id: `{{ deployment.case_id|reference_of:"case" }}`."""
    return reference_for(object_type, object_id)


@register.inclusion_tag("ui/includes/classification_banner.html", takes_context=True)
def classification(context: template.Context, where: str = "top") -> dict[str, object]:
    """The page's classification banner: the highest marking of what the page shows or collects
    (haven.ui.marking says how it is found). Worked out once per response, shown top and foot."""
    request = context.get("request")
    cached = getattr(request, "_haven_marking", None)
    if cached is None:
        try:
            cached = page_marking(context.dicts, context.get("classification"))
        except Exception:  # noqa: BLE001 - a banner must never break a page: err upwards
            logger.exception("classification banner could not be worked out")
            user = getattr(request, "user", None)
            level = getattr(user, "effective_clearance", Clearance.TOP_SECRET)
            cached = Marking(int(level or Clearance.TOP_SECRET))
        if request is not None:
            request._haven_marking = cached
    return {"marking": cached, "where": where}


@register.simple_tag(takes_context=True)
def kept_form(context: template.Context) -> str:
    """Fill the page's unbound forms with what was typed before the session expired, when the
    request carries it (haven.accounts.keptforms; base.html runs this before the content)."""
    data = getattr(context.get("request"), answers.RESTORED, None)
    if data is not None:
        for layer in context.dicts:
            for value in list(layer.values()):
                if isinstance(value, BaseForm):
                    answers.prefill(value, data)
    return ""


@register.simple_tag(takes_context=True)
def error_prefix(context: template.Context) -> str:
    """ "Error: " before the page title whenever a form on the page has errors (GOV.UK)."""
    for layer in context.dicts:
        for value in layer.values():
            if isinstance(value, BaseForm) and value.is_bound and value.errors:
                return "Error: "
    return ""


@register.filter
def date_parts(value: object) -> dict[str, object]:
    """`{% with parts=field.value|date_parts %}`: the day, month and year boxes' values."""
    return forms.date_parts(value)


@register.filter
def input_value(field: BoundField) -> object:
    """`{{ field|input_value }}`: the field's value as its widget spells it (a datetime-local
    input's "2026-12-08T09:00"), where `{{ field.value }}` would print a datetime as prose
    ("8 Dec 2026, 9 a.m."), which a browser shows as an empty box."""
    value = field.value()
    shown = field.field.widget.format_value(value)
    return "" if shown is None else shown


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@register.filter
def weekday_names(days: object) -> str:
    """`[0, 1, 2, 3, 4]` (Monday is 0) as people say it: "Monday to Friday"."""
    numbers = sorted({int(d) for d in days or [] if str(d).isdigit() and int(d) < 7})  # type: ignore[attr-defined]
    if len(numbers) > 2 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{WEEKDAYS[numbers[0]]} to {WEEKDAYS[numbers[-1]]}"
    return ", ".join(WEEKDAYS[n] for n in numbers)


@register.filter
def lookup(mapping: object, key: object) -> object:
    """`{{ titles|lookup:code }}`: a label from a dictionary the view gives, else the key."""
    return mapping.get(key, key) if isinstance(mapping, dict) else key

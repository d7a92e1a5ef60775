"""Template tags of the UI kit: `{% load ui_kit %}`."""

from django import template
from django.forms import BaseForm

from haven.concurrency.references import reference_for

register = template.Library()


@register.inclusion_tag("ui/includes/field_row.html")
def field_row(form: BaseForm, names: str, width: str = "one-quarter") -> dict[str, object]:
    """One GOV.UK grid row of form fields side by side (a search or filter form):
    `{% field_row form "reference status" "one-third" %}`; `width` is the GOV.UK column class."""
    return {"fields": [form[name] for name in names.split()], "width": width}


@register.filter
def reference_of(object_id: object, object_type: str) -> str:
    """The reference people read for an id: `{{ deployment.case_id|reference_of:"case" }}`."""
    return reference_for(object_type, object_id)

"""Short choice lists are GOV.UK radios (issue 20): six options or fewer in the protection,
operations and oversight forms, with none chosen where the choice matters."""

from __future__ import annotations

import re

import pytest
from django import forms

from haven.accounts.roles import Role
from haven.cases import forms as case_forms
from haven.equipment import forms as equipment_forms
from haven.oversight import forms as oversight_forms
from haven.risk import forms as risk_forms
from tests.cases.helpers import web
from tests.factories import UserFactory, make_case

# (form, field): decisions with consequences, so no option is chosen until the user chooses.
UNCHOSEN = [
    (risk_forms.NoticeForm, "kind"),
    (risk_forms.NoticeForm, "decision"),
    (risk_forms.MeasureForm, "status"),
    (risk_forms.MeasureStatusForm, "status"),
    (risk_forms.DecisionForm, "ndm_stage"),
    (case_forms.TaskForm, "kind"),
    (case_forms.LocationForm, "kind"),
    (case_forms.PersonForm, "relationship"),
    (case_forms.TeamMemberForm, "team_role"),
    (case_forms.JointProviderForm, "exercises_arrangements"),
    (equipment_forms.CustodyForm, "kind"),
    (equipment_forms.StatusForm, "status"),
    (oversight_forms.OutcomeForm, "outcome"),
    (oversight_forms.UpdateForm, "method"),
    (oversight_forms.DetermineForm, "reasonable_and_proportionate"),
    (oversight_forms.HearingForm, "senior_officer"),
    (oversight_forms.HearingForm, "chief_rank"),
    (oversight_forms.PanelMemberForm, "eligible"),
    (oversight_forms.TribunalDetermineForm, "determination"),
    (oversight_forms.ForfeitureForm, "ground"),
    (oversight_forms.ForfeitureStepForm, "gmp_preserved"),
    (oversight_forms.CorrespondenceForm, "method"),
    (oversight_forms.MeetingForm, "kind"),
    (oversight_forms.TribunalSeatForm, "never_police"),
]
# Search filters and sort orders stay drop-downs in their row above a list; lists of people
# or records have no fixed length.
FILTERS = {"sort", "status", "state", "urgency", "holder", "overdue", "chief_officer", "show"}


@pytest.mark.parametrize(("form", "name"), UNCHOSEN, ids=lambda v: getattr(v, "__name__", v))
def test_the_short_lists_are_radios_with_nothing_chosen(form: type, name: str) -> None:
    field = form.base_fields[name]
    assert isinstance(field.widget, forms.RadioSelect)
    assert field.initial in (None, "")
    assert "" not in [value for value, _ in field.choices]  # no "Choose" option among radios


@pytest.mark.parametrize("module", [case_forms, risk_forms, equipment_forms, oversight_forms])
def test_no_fixed_list_of_six_or_fewer_is_left_a_drop_down(module: object) -> None:
    """Every form field with a fixed choice list of at most six options (a blank "Choose" one
    aside) is radios, except the filters of search forms."""
    left = []
    for name, form in vars(module).items():
        if not (isinstance(form, type) and issubclass(form, forms.BaseForm)):
            continue
        for field_name, field in form.base_fields.items():
            if not isinstance(field, forms.ChoiceField) or isinstance(
                field, forms.MultipleChoiceField
            ):
                continue
            if isinstance(field, forms.ModelChoiceField) or field_name in FILTERS:
                continue
            options = [value for value, _ in field.choices if value != ""]
            if 0 < len(options) <= 6 and type(field.widget) is forms.Select:
                if name.endswith("SearchForm") or form is equipment_forms.ChecklistForm:
                    continue  # filters; the checklist tick is a hidden button form
                left.append(f"{name}.{field_name}")
    assert not left


@pytest.mark.django_db
def test_the_task_form_shows_radios_with_neither_kind_checked(client) -> None:
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER])
    case = make_case(officer)
    page = web(client, officer).get(f"/cases/{case.pk}/tasks/new/").content.decode()
    radios = re.findall(r'<input class="govuk-radios__input"[^>]*name="kind"[^>]*>', page)
    assert len(radios) == 2 and not any("checked" in radio for radio in radios)
    assert '<select class="govuk-select" id="id_kind"' not in page
    refused = client.post(
        f"/cases/{case.pk}/tasks/new/", {"title": "Visit", "owner": str(officer.pk)}
    )
    assert refused.status_code == 200 and "Select kind" in refused.content.decode()

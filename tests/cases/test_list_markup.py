"""The case list's table and the filter form's selects are written for speed (issue 22, item 4):
the table without ui/includes/list_table.html's per-row blocks and `{% url %}`, the options by
the `select_options` tag. Their markup must stay what the generic templates give."""

from __future__ import annotations

import re

import pytest
from django.template import engines
from django.urls import reverse

from haven.cases import services
from haven.cases.forms import CaseSearchForm
from haven.cases.models import Case, CaseStatus, Urgency
from tests.cases.helpers import web
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# cases/case_table.html as it was: ui/includes/list_table.html and its blocks.
GENERIC_TABLE = """{% extends "ui/includes/list_table.html" %}
{% block table_attrs %} data-testid="case-table"{% endblock %}
{% block caption %}<caption class="govuk-table__caption govuk-table__caption--m">{{ page.paginator.count }} case{{ page.paginator.count|pluralize }} you can see</caption>{% endblock %}
{% block head %}
    <th scope="col" class="govuk-table__header">Reference</th><th scope="col" class="govuk-table__header">Subject</th>
    <th scope="col" class="govuk-table__header">Status</th><th scope="col" class="govuk-table__header">Urgency</th><th scope="col" class="govuk-table__header">Marking</th>
{% endblock %}
{% block cells %}{% with case=row %}
      <td class="govuk-table__cell"><a class="govuk-link" href="{% url 'cases:detail' case.pk %}">{{ case.reference }}</a></td>
      <td class="govuk-table__cell">{{ case.subject_name }}</td>
      <td class="govuk-table__cell"><strong class="govuk-tag">{{ case.get_status_display }}</strong></td>
      <td class="govuk-table__cell">{{ case.get_urgency_display }}</td>
      <td class="govuk-table__cell">{{ case.marking }}</td>
{% endwith %}{% endblock %}
{% block pagination %}{% include "ui/includes/person_search_pagination.html" %}{% endblock %}
{% block empty %}<p class="govuk-body" data-testid="no-cases">No cases match. You see only cases whose team you are on or that you have been granted.</p>{% endblock %}
"""  # noqa: E501 - the template as it was, line for line

# The select of ui/includes/field.html as it was: a loop over the choices.
GENERIC_OPTIONS = """{% with current=field.value|stringformat:"s" %}{% for value, label in field.field.choices %}<option value="{{ value }}"{% if current == value|stringformat:"s" %} selected{% endif %}>{{ label }}</option>{% endfor %}{% endwith %}"""  # noqa: E501


def same_markup(html: str) -> str:
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


def table(html: str) -> str:
    start = html.index('<table class="govuk-table" data-testid="case-table"')
    return html[start : html.index("</nav>", start)]


def test_the_case_table_is_the_generic_list_table_and_links_each_case(client):
    officer = UserFactory(roles=["protection_officer"])
    cases = [services.create_case(officer, subject_name=f"Subject <{n}>") for n in range(30)]
    web(client, officer)
    response = client.get("/cases/?page=1")
    context = response.context
    generic = engines["django"].from_string(GENERIC_TABLE)
    rows = context["page"].object_list
    expected = generic.render(
        {"rows": rows, "page": context["page"], "query": context["query"]}, response.wsgi_request
    )
    html = response.content.decode()
    assert same_markup(table(html)) == same_markup(table(expected))
    links = re.findall(r'<a class="govuk-link" href="([^"]+)">HVN-', html)
    assert links == [reverse("cases:detail", args=[case.pk]) for case in rows]
    assert {case.pk for case in rows} <= {case.pk for case in cases}
    assert "Subject &lt;" in html


@pytest.mark.parametrize(
    "query", [{}, {"status": "active", "sort": "reference"}, {"urgency": "<x>", "sort": "-x"}]
)
def test_select_options_are_the_generic_loops_options(query):
    form = CaseSearchForm(query or None)
    form.is_valid()
    engine = engines["django"]
    tag = engine.from_string("{% load ui_kit %}{% select_options field %}")
    generic = engine.from_string(GENERIC_OPTIONS)
    for name in ("status", "urgency", "sort"):
        field = form[name]
        assert tag.render({"field": field}) == generic.render({"field": field})
    if query.get("status"):
        assert 'value="active" selected>Active<' in tag.render({"field": form["status"]})


def test_a_cases_status_and_urgency_labels_are_djangos_get_display():
    """Case defines get_status_display and get_urgency_display itself (a dictionary look-up):
    the labels must stay Django's, for every choice and for a value that is none of them."""
    status, urgency = Case._meta.get_field("status"), Case._meta.get_field("urgency")
    for value in [*CaseStatus.values, "unheard-of"]:
        case = Case(status=value)
        assert case.get_status_display() == case._get_FIELD_display(status)
    for value in [*Urgency.values, "unheard-of"]:
        case = Case(urgency=value)
        assert case.get_urgency_display() == case._get_FIELD_display(urgency)

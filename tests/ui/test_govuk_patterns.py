"""GOV.UK patterns of the UI kit (issue 20, item 6): the date input, the "Error:" title prefix,
error-summary links that lead to a field."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.template.loader import render_to_string

from haven.ui.forms import GovukForm, date_field


class WhenForm(GovukForm):
    due_on = date_field("Due on")
    ends_on = date_field("Ends on", required=False)


def test_the_three_boxes_make_one_date() -> None:
    form = WhenForm({"due_on_day": "5", "due_on_month": "3", "due_on_year": "2026"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"due_on": dt.date(2026, 3, 5), "ends_on": None}


def test_a_date_that_does_not_exist_is_refused_by_name() -> None:
    form = WhenForm({"due_on_day": "31", "due_on_month": "2", "due_on_year": "2026"})
    assert not form.is_valid()
    assert form.errors["due_on"] == ["Due on must be a real date"]


@pytest.mark.parametrize(
    "parts", [("", "3", "2026"), ("5", "x", "2026"), ("5", "3", "26"), ("5", "13", "2026")]
)
def test_a_missing_or_wrong_box_is_refused(parts: tuple[str, str, str]) -> None:
    day, month, year = parts
    form = WhenForm({"due_on_day": day, "due_on_month": month, "due_on_year": year})
    assert not form.is_valid()
    assert form.errors["due_on"] == ["Due on must be a real date"]


def test_empty_boxes_of_a_required_date_ask_for_it() -> None:
    form = WhenForm({"due_on_day": "", "due_on_month": "", "due_on_year": ""})
    assert not form.is_valid()
    assert form.errors["due_on"] == ["Enter due on"]


def test_one_iso_value_is_still_taken() -> None:
    form = WhenForm({"due_on": "2026-03-05"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["due_on"] == dt.date(2026, 3, 5)


def test_the_boxes_keep_what_was_typed_and_link_the_error_to_the_day_box() -> None:
    form = WhenForm({"due_on_day": "31", "due_on_month": "2", "due_on_year": "2026"})
    form.is_valid()
    html = render_to_string("ui/includes/field.html", {"field": form["due_on"]})
    assert (
        '<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">Due on</legend>' in html
    )
    assert re.search(r'id="id_due_on" name="due_on_day"[^>]*value="31"', html)
    assert re.search(r'id="id_due_on-month" name="due_on_month"[^>]*value="2"', html)
    assert re.search(r'id="id_due_on-year" name="due_on_year"[^>]*value="2026"', html)
    assert 'type="date"' not in html
    summary = render_to_string("ui/includes/error_summary.html", {"form": form})
    assert '<a href="#id_due_on">Due on must be a real date</a>' in summary


def test_an_initial_date_fills_the_boxes() -> None:
    form = WhenForm(initial={"due_on": dt.date(2026, 12, 1)})
    html = render_to_string("ui/includes/field.html", {"field": form["due_on"]})
    assert 'name="due_on_day" type="text" inputmode="numeric" value="1"' in html
    assert 'name="due_on_year" type="text" inputmode="numeric" value="2026"' in html


@pytest.mark.django_db
def test_a_refused_sign_in_titles_the_page_error_and_links_to_a_field(client) -> None:
    body = client.post("/accounts/login/", {"username": "nobody", "password": "wrong"})
    html = body.content.decode()
    assert re.search(r"<title>Error: ", html)
    assert 'href="#"' not in html.split('class="govuk-error-summary"')[1].split("</div>")[0]
    assert re.search(r'govuk-error-summary__list">\s*<li><a href="#id_username">', html)


@pytest.mark.django_db
def test_a_page_without_errors_has_no_error_title(client) -> None:
    html = client.get("/accounts/login/").content.decode()
    assert "<title>Error:" not in html


class LimitsForm(GovukForm):
    from django import forms as _forms

    name = _forms.CharField(label="Name", max_length=5)
    count = _forms.IntegerField(label="How many?", min_value=1, max_value=9)


def test_limits_are_said_in_plain_words_not_djangos() -> None:
    form = LimitsForm({"name": "toolong", "count": "10"})
    assert not form.is_valid()
    assert form.errors["name"] == ["Name must be 5 characters or fewer"]
    assert form.errors["count"] == ["How many must be 9 or less"]
    assert "Ensure this value" not in str(form.errors)


@pytest.mark.parametrize(
    ("days", "said"),
    [
        ([0, 1, 2, 3, 4], "Monday to Friday"),
        ([5, 6], "Saturday, Sunday"),
        ([0, 2], "Monday, Wednesday"),
    ],
)
def test_days_of_the_week_are_named(days: list[int], said: str) -> None:
    from haven.ui.templatetags.ui_kit import weekday_names

    assert weekday_names(days) == said

"""Welfare for protection officers (issue 20, item 8): the same records as operations staff,
kept per staff group. Protection managers see and record for protection staff only, technical
supervisors for operations staff only; every refusal across the groups is a 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from haven.rota import selectors, services
from haven.rota.models import WelfareNote, WelfareProfile, WorkPeriod
from haven.rota.staff import OPERATIONS, PROTECTION
from tests.factories import token_client as api
from tests.factories import web_client as web

pytestmark = pytest.mark.django_db


def psych_date(person):  # type: ignore[no-untyped-def]
    profile = WelfareProfile.objects.filter(user=person).first()
    return profile.last_psych_assessment if profile else None


# ------------------------------------------------------------------ selectors and services


def test_each_supervisor_sees_only_their_own_groups_people(officer, manager, tech, boss):
    protection = {p.person for p in selectors.welfare_dashboard(manager, group=PROTECTION)}
    assert {officer, manager} <= protection and tech not in protection and boss not in protection
    operations = {p.person for p in selectors.welfare_dashboard(boss)}
    assert {tech, boss} <= operations and officer not in operations and manager not in operations


def test_a_supervisor_of_one_group_cannot_open_the_others_dashboard(officer, manager, boss):
    with pytest.raises(Http404):
        selectors.welfare_dashboard(boss, group=PROTECTION)
    with pytest.raises(Http404):
        selectors.welfare_dashboard(manager, group=OPERATIONS)
    with pytest.raises(PermissionDenied):
        selectors.welfare_dashboard(officer, group=PROTECTION)


def test_an_officer_sees_their_own_welfare_and_nobody_elses(officer, colleague, manager, tech):
    assert selectors.person_welfare(officer, officer.pk, group=PROTECTION).person == officer
    for other in (colleague, manager, tech):
        with pytest.raises(Http404):
            selectors.person_welfare(officer, other.pk, group=PROTECTION)
    assert selectors.person_welfare(manager, officer.pk, group=PROTECTION).person == officer
    with pytest.raises(Http404):
        selectors.person_welfare(manager, tech.pk, group=PROTECTION)


def test_a_protection_manager_records_an_assessment_and_a_note_for_an_officer(officer, manager):
    assessed = timezone.localdate() - dt.timedelta(days=30)
    services.record_psych_assessment(
        manager, person=officer, assessed_on=assessed, group=PROTECTION
    )
    services.record_welfare_note(
        manager, person=officer, text="Check-in after a long deployment", group=PROTECTION
    )
    result = selectors.person_welfare(officer, officer.pk, group=PROTECTION)
    assert psych_date(officer) == assessed and result.assessment.psych_due is not None
    assert [note.text for note in result.notes] == ["Check-in after a long deployment"]
    assert "psych_assessment" not in [flag.code for flag in result.assessment.flags]


def test_nobody_records_across_the_groups(officer, manager, tech, boss):
    day = timezone.localdate()
    with pytest.raises(ValidationError, match="protection officer or manager"):
        services.record_psych_assessment(manager, person=tech, assessed_on=day, group=PROTECTION)
    with pytest.raises(ValidationError, match="technical officer or supervisor"):
        services.record_psych_assessment(boss, person=officer, assessed_on=day)
    with pytest.raises(Http404):
        services.record_welfare_note(boss, person=officer, text="x", group=PROTECTION)
    with pytest.raises(PermissionDenied):
        services.record_welfare_note(officer, person=officer, text="x", group=PROTECTION)
    assert psych_date(tech) is None and psych_date(officer) is None
    assert not WelfareNote.objects.exists()


def test_an_officer_records_their_own_time_and_a_manager_an_officers(officer, colleague, manager):
    start = timezone.now() - dt.timedelta(hours=30)
    services.record_work(
        officer, person=officer, starts_at=start, ends_at=start + dt.timedelta(hours=8),
        group=PROTECTION,
    )  # fmt: skip
    with pytest.raises(ValidationError, match="only your own"):
        services.record_work(
            officer, person=colleague, starts_at=start, ends_at=start + dt.timedelta(hours=8),
            group=PROTECTION,
        )  # fmt: skip
    services.record_work(
        manager, person=colleague, starts_at=start, ends_at=start + dt.timedelta(hours=8),
        group=PROTECTION,
    )  # fmt: skip
    assert WorkPeriod.objects.filter(user__in=[officer, colleague]).count() == 2


# ------------------------------------------------------------------ web


def test_an_officer_reaches_their_welfare_from_home_and_sees_no_dashboard(officer, colleague, tech):
    client = web(officer)
    home = client.get("/").content.decode()
    assert 'href="/protection/welfare/me/"' in home and 'href="/protection/welfare/"' not in home
    page = client.get("/protection/welfare/me/")
    body = page.content.decode()
    assert page.status_code == 200 and "Psychological assessment due" in body
    assert "Welfare note" not in body and "Record assessment" not in body
    assert client.get("/protection/welfare/").status_code == 403
    for other in (colleague, tech):
        assert client.get(f"/protection/welfare/{other.pk}/").status_code == 404
    assert client.get("/operations/rota/welfare/me/").status_code == 404
    assert client.get(f"/operations/rota/welfare/{tech.pk}/").status_code == 404


def test_a_manager_clicks_from_home_to_an_officer_and_records_for_them(officer, manager, tech):
    client = web(manager)
    home = client.get("/").content.decode()
    assert 'href="/protection/welfare/"' in home
    dashboard = client.get("/protection/welfare/").content.decode()
    assert f'href="/protection/welfare/{officer.pk}/"' in dashboard
    assert f"/protection/welfare/{tech.pk}/" not in dashboard and str(tech) not in dashboard
    page = f"/protection/welfare/{officer.pk}/"
    assessed = timezone.localdate() - dt.timedelta(days=10)
    response = client.post(
        page,
        {
            "action": "psych",
            "psych-assessed_on_day": assessed.day,
            "psych-assessed_on_month": assessed.month,
            "psych-assessed_on_year": assessed.year,
        },
    )
    assert response.status_code == 302 and psych_date(officer) == assessed
    response = client.post(page, {"action": "note", "note-text": "Offered counselling"})
    assert response.status_code == 302
    assert "Offered counselling" in client.get(page).content.decode()
    # The officer reads the note on their own page.
    assert "Offered counselling" in web(officer).get("/protection/welfare/me/").content.decode()


def test_a_manager_cannot_open_or_record_for_operations_staff(manager, tech):
    client = web(manager)
    page = f"/protection/welfare/{tech.pk}/"
    assert client.get(page).status_code == 404
    response = client.post(page, {"action": "note", "note-text": "Not theirs"})
    assert response.status_code == 404 and not WelfareNote.objects.exists()
    assert client.get("/operations/rota/welfare/").status_code == 404


def test_a_technical_supervisor_cannot_see_protection_officers(officer, boss):
    client = web(boss)
    assert client.get(f"/operations/rota/welfare/{officer.pk}/").status_code == 404
    assert str(officer) not in client.get("/operations/rota/welfare/").content.decode()
    assert client.get("/protection/welfare/").status_code == 404
    assert client.get(f"/protection/welfare/{officer.pk}/").status_code == 404
    response = client.post(
        f"/operations/rota/welfare/{officer.pk}/", {"action": "note", "note-text": "Not theirs"}
    )
    assert response.status_code == 404 and not WelfareNote.objects.exists()


def test_bad_input_is_a_field_error_and_changes_nothing(officer, manager):
    client = web(manager)
    page = f"/protection/welfare/{officer.pk}/"
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = client.post(
        page,
        {
            "action": "psych",
            "psych-assessed_on_day": tomorrow.day,
            "psych-assessed_on_month": tomorrow.month,
            "psych-assessed_on_year": tomorrow.year,
        },
    )
    assert response.status_code == 400 and "must not be in the future" in response.content.decode()
    response = client.post(page, {"action": "note", "note-text": "   "})
    assert response.status_code == 400 and "govuk-error-summary" in response.content.decode()
    assert psych_date(officer) is None and not WelfareNote.objects.exists()


# ------------------------------------------------------------------ API


def test_the_protection_api_lists_protection_staff_and_records_for_them(officer, manager, tech):
    client = api(manager)
    listed = {row["username"] for row in client.get("/api/protection/welfare").json()}
    assert {officer.username, manager.username} <= listed and tech.username not in listed
    answer = client.post(
        "/api/protection/welfare/notes",
        {"username": officer.username, "text": "Welfare check-in"},
        content_type="application/json",
    )
    assert answer.status_code == 201
    mine = api(officer).get("/api/protection/welfare/me").json()
    assert [note["text"] for note in mine["notes"]] == ["Welfare check-in"]
    answer = client.post(
        "/api/protection/welfare/psych-assessments",
        {"username": tech.username, "assessed_on": "2025-01-01"},
        content_type="application/json",
    )
    assert answer.status_code == 422 and psych_date(tech) is None
    assert client.get(f"/api/protection/welfare/officers/{tech.username}").status_code == 404


def test_the_api_refuses_across_the_groups_with_404(officer, colleague, manager, boss):
    assert api(boss).get("/api/protection/welfare").status_code == 404
    assert api(manager).get("/api/welfare").status_code == 404
    colleague_page = f"/api/protection/welfare/officers/{colleague.username}"
    assert api(officer).get(colleague_page).status_code == 404
    assert api(manager).get(colleague_page).status_code == 200
    answer = api(boss).post(
        "/api/welfare/psych-assessments",
        {"username": officer.username, "assessed_on": "2025-01-01"},
        content_type="application/json",
    )
    assert answer.status_code == 422 and psych_date(officer) is None


def test_operations_supervisors_record_assessments_and_notes_through_the_api(tech, boss):
    client = api(boss)
    answer = client.post(
        "/api/welfare/psych-assessments",
        {"username": tech.username, "assessed_on": "2025-01-01"},
        content_type="application/json",
    )
    assert answer.status_code == 201 and psych_date(tech) == dt.date(2025, 1, 1)
    answer = client.post(
        "/api/welfare/notes",
        {"username": tech.username, "text": "Debrief after the job"},
        content_type="application/json",
    )
    assert answer.status_code == 201
    assert WelfareNote.objects.get().recorded_by == boss
    refused = api(tech).post(
        "/api/welfare/notes",
        {"username": tech.username, "text": "About myself"},
        content_type="application/json",
    )
    assert refused.status_code == 403 and WelfareNote.objects.count() == 1


# ------------------------------------------------------------------ demo data


def test_demo_protection_officers_have_welfare_records_and_it_can_run_twice():
    from haven.accounts.models import User
    from haven.demo.accounts import create_demo_accounts
    from haven.rota.demo import create_demo_protection_welfare

    create_demo_accounts()
    manager = User.objects.get(username="manager")
    officers = list(User.objects.filter(username__in=("officer", "identity")).order_by("pk"))
    assert create_demo_protection_welfare(manager, officers) == 2
    assert create_demo_protection_welfare(manager, officers) == 0
    rows = {p.person.username: p for p in selectors.welfare_dashboard(manager, group=PROTECTION)}
    first = [flag.code for flag in rows["officer"].assessment.flags]
    assert "daily_rest" in first and "psych_assessment" in first
    assert rows["identity"].assessment.psych_due is not None
    assert WelfareNote.objects.filter(user__in=officers).count() == 2

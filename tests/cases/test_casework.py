"""Casework: referrals, the arrangement state machine, people, locations, contacts, tasks,
documents, the case page, list export and the API flow."""

from __future__ import annotations

import base64
import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from haven.accounts import services as account_services
from haven.accounts.roles import Role
from haven.audit.models import Action, LedgerEntry
from haven.cases import selectors, services
from haven.cases.models import Case, CaseStatus, CaseTask, Decision, Document, Person
from haven.notifications.models import Notification
from tests.cases.access_rules import TINY_PNG
from tests.factories import UserFactory, force_sign_in

pytestmark = pytest.mark.django_db

FACTORS = {
    "factor_risk": "Credible threat to life from an organised crime group",
    "factor_cost": "Within the regional budget",
    "factor_adjustment": "Family willing to relocate",
    "factor_proceedings": "Key witness in a murder trial",
}


@pytest.fixture
def officer():
    return UserFactory(roles=[Role.PROTECTION_OFFICER])


@pytest.fixture
def manager():
    return UserFactory(roles=[Role.PROTECTION_MANAGER])


@pytest.fixture
def authoriser():
    return UserFactory(roles=[Role.AUTHORISING_OFFICER])


@pytest.fixture
def referral(officer, manager, authoriser):
    return services.create_case(
        officer,
        subject_name="Ottilie Fictional",
        subject_dob=date(1990, 5, 17),
        referring_organisation="Midshire Police",
        referring_officer="DC Example",
        threat_summary="Threats from the defendant's associates",
        urgency="urgent",
        manager=manager,
        authoriser=authoriser,
    )


def raw_column(table: str, column: str, pk: object) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM {table} WHERE id = %s",  # noqa: S608 - test constants
            [pk.hex if connection.vendor == "sqlite" else pk],  # type: ignore[attr-defined]
        )
        return cursor.fetchone()[0]


def advance(actor, case, to, **kwargs):
    case.refresh_from_db()
    return services.change_status(
        actor, case.pk, to_status=to, version=case.version, reason=f"to {to}", **kwargs
    )


# --------------------------------------------------------------------------- referrals


def test_referral_intake_records_the_referral_principal_and_team(referral, manager, authoriser):
    assert referral.status == CaseStatus.REFERRED and referral.urgency == "urgent"
    principal = Person.objects.get(case=referral)
    assert principal.role == "principal" and principal.full_name == "Ottilie Fictional"
    assert raw_column("cases_case", "threat_summary", referral.pk).startswith("hv1.")
    assert raw_column("cases_person", "full_name", principal.pk).startswith("hv1.")
    assert selectors.get_case(authoriser, referral.pk, "authorisation") == referral
    entry = LedgerEntry.objects.get(action=Action.COLLECTION, object_id=str(referral.pk))
    assert "threat_summary" in entry.fields


def test_bad_referral_changes_nothing(officer):
    with pytest.raises(ValidationError) as refused:
        services.create_case(
            officer,
            subject_name=" ",
            subject_dob=timezone.localdate() + timedelta(days=3),
            urgency="whenever",
        )
    assert set(refused.value.message_dict) == {"subject_name", "subject_dob", "urgency"}
    assert not Case.objects.exists() and not Person.objects.exists()


def test_duplicate_warning_names_visible_cases_only(officer, referral, manager):
    seen = services.check_duplicates(officer, "OTTILIE  fictional", date(1990, 5, 17))
    assert [c.reference for c in seen.visible] == [referral.reference] and not seen.hidden

    stranger = UserFactory(roles=[Role.PROTECTION_OFFICER])
    report = services.check_duplicates(stranger, "Ottilie Fictional", date(1990, 5, 17))
    assert report.visible == [] and not report.any
    none = services.check_duplicates(stranger, "Nobody Fictional", date(1990, 5, 17))
    assert report.as_dict() == none.as_dict() == {"visible": [], "message": ""}
    note = Notification.objects.get(user=manager)
    assert str(stranger) in note.message and "Ottilie" not in note.message
    entry = LedgerEntry.objects.filter(action=Action.COMBINATION).get()
    assert entry.case_id == str(referral.pk) and entry.recipients == [manager.username]


def test_no_duplicate_for_a_different_date_of_birth(officer, referral):
    assert not services.check_duplicates(officer, "Ottilie Fictional", date(1991, 5, 17)).any


def test_triage_queue_filters_and_ages_referrals(officer, referral):
    with time_machine.travel(timezone.now() + timedelta(days=9)):
        page = selectors.triage_queue(
            officer, selectors.CaseSearch(urgency="urgent"), 1, "case_management"
        )
        (case,) = page.object_list
        assert case.age_days == 9 and case.ageing == "overdue"
        none = selectors.triage_queue(
            officer, selectors.CaseSearch(urgency="immediate"), 1, "case_management"
        )
        assert not none.object_list


# --------------------------------------------------------------------------- arrangement


def test_referral_to_active_arrangement_records_every_decision(
    officer, manager, authoriser, referral
):
    advance(officer, referral, "assessed")
    advance(authoriser, referral, "accepted", factors=FACTORS)
    advance(manager, referral, "active")
    referral.refresh_from_db()
    assert referral.status == CaseStatus.ACTIVE and referral.version == 4
    decisions = list(Decision.objects.filter(case=referral).order_by("recorded_at"))
    assert [d.to_status for d in decisions] == ["assessed", "accepted", "active"]
    assert decisions[1].decision_maker == authoriser
    assert decisions[1].factor_cost == FACTORS["factor_cost"]
    assert raw_column("cases_decision", "factor_risk", decisions[1].pk).startswith("hv1.")
    review = CaseTask.objects.get(case=referral, kind="review")
    assert review.owner == manager and review.due_on > timezone.localdate()


def test_illegal_transition_is_refused_with_the_allowed_next_states(officer, referral):
    with pytest.raises(ValidationError) as refused:
        advance(officer, referral, "active")
    message = refused.value.message_dict["to_status"][0]
    assert "Referred cannot become Active" in message and "Assessed" in message
    assert not Decision.objects.exists()


def test_only_an_authorising_officer_accepts(officer, manager, referral):
    advance(officer, referral, "assessed")
    for actor in (officer, manager):
        with pytest.raises(PermissionDenied):
            advance(actor, referral, "accepted", factors=FACTORS)
    referral.refresh_from_db()
    assert referral.status == CaseStatus.ASSESSED


@pytest.mark.parametrize("missing", sorted(FACTORS))
def test_each_s82_4_factor_is_required(officer, authoriser, referral, missing):
    advance(officer, referral, "assessed")
    with pytest.raises(ValidationError) as refused:
        advance(authoriser, referral, "accepted", factors={**FACTORS, missing: "  "})
    assert list(refused.value.message_dict) == [missing]
    assert Decision.objects.count() == 1


def test_declined_referral_keeps_its_record_and_reason(officer, authoriser, referral):
    advance(officer, referral, "assessed")
    referral.refresh_from_db()
    services.change_status(
        authoriser,
        referral.pk,
        to_status="declined",
        version=referral.version,
        reason="Risk managed locally by the force",
        factors=FACTORS,
    )
    referral.refresh_from_db()
    assert referral.status == "declined" and Case.objects.filter(pk=referral.pk).exists()
    assert Decision.objects.get(to_status="declined").reason == "Risk managed locally by the force"
    with pytest.raises(ValidationError):
        advance(authoriser, referral, "active")


def test_vary_transfer_and_cancel(officer, manager, authoriser, referral):
    advance(officer, referral, "assessed")
    advance(authoriser, referral, "accepted", factors=FACTORS)
    advance(manager, referral, "active")
    advance(manager, referral, "varied", factors=FACTORS)
    advance(manager, referral, "active")
    with pytest.raises(ValidationError) as refused:
        advance(manager, referral, "transferred", transfer={})
    assert {"receiving_provider", "effective_date", "receiving_recorded_on"} <= set(
        refused.value.message_dict
    )
    advance(
        manager,
        referral,
        "transferred",
        transfer={
            "receiving_provider": "Police Scotland",
            "effective_date": date(2026, 6, 1),
            "receiving_recorded_by": "DI Receiver",
            "receiving_recorded_on": timezone.localdate(),
        },
    )
    referral.refresh_from_db()
    assert referral.provider == "Police Scotland"
    transfer = referral.transfers.get()
    assert transfer.from_provider.startswith("UKPPS") and transfer.sending_recorded_on
    # s.84(3): from the agreed date the new provider holds the powers to vary or cancel.
    for target in ("cancelled", "active", "varied"):
        with pytest.raises(ValidationError):
            advance(manager, referral, target, factors=FACTORS)


def test_stale_decision_is_a_conflict(officer, referral):
    services.change_status(officer, referral.pk, to_status="assessed", version=1, reason="x")
    with pytest.raises(services.ConflictError):
        services.change_status(officer, referral.pk, to_status="assessed", version=1, reason="y")


def test_joint_provider_needs_a_manager_or_authoriser(officer, manager, referral):
    with pytest.raises(PermissionDenied):
        services.add_joint_provider(officer, referral.pk, provider="PSNI", agreed_on=date.today())
    joint = services.add_joint_provider(
        manager, referral.pk, provider="PSNI", agreed_on=timezone.localdate()
    )
    assert joint.provider == "PSNI"


# --------------------------------------------------------------------------- people and places


def test_people_are_encrypted_and_edits_use_optimistic_locking(officer, referral):
    child = services.add_person(
        officer,
        referral.pk,
        full_name="Kit Fictional",
        relationship="child",
        dob=date(2015, 1, 2),
        phone="07700 900123",
        notes="Attends primary school",
    )
    assert raw_column("cases_person", "phone", child.pk).startswith("hv1.")
    services.update_person(officer, referral.pk, child.pk, version=1, phone="07700 900999")
    with pytest.raises(services.ConflictError):
        services.update_person(officer, referral.pk, child.pk, version=1, notes="lost update")
    assert Person.objects.get(pk=child.pk).notes == "Attends primary school"
    with pytest.raises(ValidationError):
        services.add_person(
            officer,
            referral.pk,
            full_name="Future Baby",
            relationship="child",
            dob=timezone.localdate() + timedelta(days=30),
        )


def test_changing_the_principal_updates_the_case(officer, referral):
    principal = Person.objects.get(case=referral, role="principal")
    services.update_person(officer, referral.pk, principal.pk, version=1, full_name="Ottilie New")
    assert Case.objects.get(pk=referral.pk).subject_name == "Ottilie New"


def test_locations_encrypt_address_and_coordinates(officer, referral):
    location = services.add_location(
        officer,
        referral.pk,
        kind="safe_house",
        address="3 Nowhere Lane",
        valid_from=date(2026, 1, 1),
        latitude="51.5",
        longitude="-0.12",
    )
    assert raw_column("cases_location", "coordinates", location.pk).startswith("hv1.")
    assert location.coordinates == {"lat": 51.5, "lon": -0.12}
    with pytest.raises(ValidationError) as refused:
        services.add_location(
            officer,
            referral.pk,
            kind="castle",
            address="",
            valid_from=date(2026, 2, 1),
            valid_to=date(2026, 1, 1),
        )
    assert set(refused.value.message_dict) == {"kind", "address", "valid_to"}


def test_contact_with_follow_up_creates_a_task(officer, referral):
    entry = services.log_contact(
        officer,
        referral.pk,
        occurred_at=timezone.now(),
        method="in_person",
        summary="Family under strain after the move",
        concerns=["strain", "tension"],
        follow_up="Arrange school visit",
        follow_up_due=timezone.localdate() + timedelta(days=3),
    )
    assert raw_column("cases_contactentry", "summary", entry.pk).startswith("hv1.")
    assert CaseTask.objects.get(case=referral).title.startswith("Follow up: Arrange")
    with pytest.raises(ValidationError):
        services.log_contact(
            officer, referral.pk, occurred_at=timezone.now(), method="pigeon", summary="x"
        )


# --------------------------------------------------------------------------- tasks


def test_escalation_is_due_in_working_days_and_shows_on_the_dashboard(officer, manager, referral):
    with time_machine.travel(datetime(2026, 4, 2, 10, tzinfo=UTC)):  # Thu before Easter
        task = services.escalate(officer, referral.pk, question="Can the family keep the car?")
        # Good Friday and Easter Monday are not working days: Thu + 2 working days = Wed 8 Apr.
        assert task.owner == manager and task.due_on == date(2026, 4, 8)
        assert Notification.objects.filter(user=manager).exists()
    with time_machine.travel(datetime(2026, 4, 10, 10, tzinfo=UTC)):
        board = selectors.manager_dashboard(manager, "supervision")
        assert [t.pk for t in board.escalations] == [task.pk]
        assert [t.pk for t in board.overdue] == [task.pk]
        with pytest.raises(ValidationError):
            services.complete_task(manager, referral.pk, task.pk, version=1, response="")
        services.complete_task(manager, referral.pk, task.pk, version=1, response="Yes")
        assert not selectors.manager_dashboard(manager, "supervision").escalations


def test_my_work_lists_overdue_items_and_reminders_go_once_a_day(officer, referral):
    task = services.create_task(
        officer, referral.pk, title="Visit the school", due_on=date(2026, 3, 2)
    )
    with time_machine.travel(datetime(2026, 3, 5, 9, tzinfo=UTC)):
        (mine,) = selectors.my_work(officer, "case_management")
        assert mine.pk == task.pk and mine.overdue
        from haven.cases.tasks import send_reminders

        assert send_reminders.enqueue().return_value == 1  # immediate backend in tests
        assert send_reminders.enqueue().return_value == 0
        note = Notification.objects.get(user=officer)
        assert referral.reference in note.message and "Visit" not in note.message


def test_task_owner_must_be_on_the_team(officer, referral):
    with pytest.raises(ValidationError):
        services.create_task(
            officer, referral.pk, title="x", due_on=date(2026, 1, 1), owner=UserFactory()
        )


# --------------------------------------------------------------------------- documents


def test_document_upload_is_encrypted_and_download_is_a_disclosure(officer, referral):
    from django.conf import settings

    document = services.upload_document(
        officer, referral.pk, title="Relocation letter", filename="letter.png", data=TINY_PNG
    )
    assert document.content_type == "image/png"
    stored = next(settings.BLOB_DIR.rglob(document.blob_id)).read_bytes()
    assert TINY_PNG not in stored
    found, data = selectors.read_document(officer, referral.pk, document.pk, "disclosure")
    assert data == TINY_PNG
    entry = LedgerEntry.objects.latest("id")
    assert entry.action == Action.DISCLOSURE and entry.recipients == [officer.username]


@pytest.mark.parametrize(
    "filename,data,message",
    [
        ("notes.pdf", b"just some text pretending to be a PDF", "must be one of"),
        ("photo.pdf", TINY_PNG, "not what its name says"),
        ("empty.png", b"", "Choose a file"),
    ],
)
def test_document_that_is_not_what_it_claims_is_refused(officer, referral, filename, data, message):
    with pytest.raises(ValidationError) as refused:
        services.upload_document(officer, referral.pk, title="t", filename=filename, data=data)
    assert message in refused.value.message_dict["file"][0]
    assert not Document.objects.exists()


def test_oversized_document_is_refused(officer, referral, monkeypatch):
    from haven.cases import config

    monkeypatch.setattr(config, "DOCUMENT_MAX_BYTES", 10)
    with pytest.raises(ValidationError):
        services.upload_document(officer, referral.pk, title="t", filename="a.png", data=TINY_PNG)


# --------------------------------------------------------------------------- web


def web(client, user):
    force_sign_in(client, user)
    session = client.session
    session["haven_purpose"] = "case_management"
    session.save()
    return client


def test_case_file_keeps_each_models_order_and_loads_contacts_people_once(officer, referral):
    principal = Person.objects.get(case=referral, role="principal")
    for day in (3, 9, 5):
        services.add_location(
            officer,
            referral.pk,
            kind="residence",
            address=f"{day} Lane",
            valid_from=date(2026, 1, day),
        )
        services.log_contact(
            officer,
            referral.pk,
            occurred_at=datetime(2026, 2, day, 9, tzinfo=UTC),
            method="phone",
            summary=f"Call {day}",
            person_id=principal.pk,
        )
    with CaptureQueriesContext(connection) as reads:
        case_file = selectors.get_case_file(officer, referral.pk, "case_management")
    plain_reads = [
        q["sql"]
        for q in reads
        if q["sql"].startswith(('SELECT "cases_person"', 'SELECT "cases_location"'))
    ]
    assert len(plain_reads) == 2 and not any("JOIN" in sql for sql in plain_reads)
    assert [loc.address for loc in case_file.locations] == ["9 Lane", "5 Lane", "3 Lane"]
    assert [c.summary for c in case_file.contacts] == ["Call 9", "Call 5", "Call 3"]
    with CaptureQueriesContext(connection) as queries:
        names = {c.person.full_name for c in case_file.contacts}
        recorders = {str(c.recorded_by) for c in case_file.contacts}
    assert names == {"Ottilie Fictional"} and recorders == {str(officer)}
    assert len(queries) == 0


def test_case_page_shows_the_timeline_and_is_one_logged_read(client, officer, referral):
    services.log_contact(
        officer, referral.pk, occurred_at=timezone.now(), method="phone", summary="Called Ottilie"
    )
    web(client, officer)
    before = LedgerEntry.objects.count()
    page = client.get(f"/cases/{referral.pk}/").content.decode()
    assert "moj-timeline" in page and "Referral received" in page and "Called Ottilie" in page
    assert LedgerEntry.objects.count() == before + 1


def test_intake_form_shows_errors_and_saves_nothing(client, officer):
    web(client, officer)
    response = client.post(
        "/cases/referrals/new/", {"subject_name": "", "subject_dob": "31/2/1990"}
    )
    body = response.content.decode()
    assert response.status_code == 200 and "govuk-error-summary" in body
    assert "must be a real date" in body and not Case.objects.exists()


def test_intake_form_warns_about_a_duplicate_before_saving(client, officer, referral):
    web(client, officer)
    data = {
        "subject_name": "Ottilie Fictional",
        "subject_dob": "1990-05-17",
        "referring_organisation": "Other Police",
        "referring_officer": "DC Two",
        "threat_summary": "Second referral",
        "urgency": "routine",
        "received_at": "2026-01-05T10:00",
        "classification": "2",
    }
    response = client.post("/cases/referrals/new/", data)
    assert response.status_code == 200 and referral.reference in response.content.decode()
    assert Case.objects.count() == 1
    response = client.post("/cases/referrals/new/", {**data, "confirm_duplicate": "True"})
    assert response.status_code == 302 and response["Location"] == "/cases/referrals/new/check/"
    assert Case.objects.count() == 1  # nothing recorded before the answers are checked
    response = client.post("/cases/referrals/new/check/")
    assert response.status_code == 302 and Case.objects.count() == 2


def test_decision_form_refuses_missing_factors_with_field_errors(
    client, officer, authoriser, referral
):
    advance(officer, referral, "assessed")
    web(client, authoriser)
    response = client.post(
        f"/cases/{referral.pk}/decision/",
        {"version": "2", "to_status": "accepted", "decided_on": "2026-01-01", "reason": "ok"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and "s.82(4)(b)" in body
    assert Case.objects.get(pk=referral.pk).status == "assessed"


def test_edit_form_reports_a_conflict(client, officer, referral):
    web(client, officer)
    services.update_case(officer, referral.pk, version=1, reason="first", address="1 Road")
    response = client.post(
        f"/cases/{referral.pk}/edit/",
        {
            "version": "1",
            "subject_name": "Ottilie Fictional",
            "urgency": "urgent",
            "address": "2 Road",
            "reason": "second",
        },
    )
    assert "changed by someone else" in response.content.decode()
    assert Case.objects.get(pk=referral.pk).address == "1 Road"


def test_csv_export_is_a_logged_disclosure(client, officer, referral):
    web(client, officer)
    response = client.get("/cases/export.csv?urgency=urgent")
    assert response["Content-Type"].startswith("text/csv")
    assert "Ottilie Fictional" in response.content.decode()
    entry = LedgerEntry.objects.latest("id")
    assert entry.action == Action.DISCLOSURE and entry.details["cases"] == [str(referral.pk)]


def test_csv_export_neutralises_formulas(officer):
    services.create_case(officer, subject_name="=HYPERLINK(1)")
    text = selectors.export_cases_csv(officer, selectors.CaseSearch(), "disclosure")
    assert "'=HYPERLINK(1)" in text


def test_csv_export_download_neutralises_every_text_cell(client, officer):
    services.create_case(
        officer, subject_name="=HYPERLINK(1)", referring_organisation="@SUM(A1)", urgency="urgent"
    )
    response = web(client, officer).get("/cases/export.csv")
    assert response["Content-Disposition"].startswith('attachment; filename="cases-')
    header, row = csv.reader(io.StringIO(response.content.decode("utf-8-sig")))
    exported = dict(zip(header, row, strict=True))
    assert exported["subject"] == "'=HYPERLINK(1)"
    assert exported["referred by"] == "'@SUM(A1)"


def test_api_csv_export_neutralises_formulas_in_a_named_download(client, officer):
    services.create_case(officer, subject_name="=HYPERLINK(1)")
    _, secret = account_services.issue_api_token(
        officer, "t", modules=officer.modules, can_write=True
    )
    response = client.get(
        "/api/case-export",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
        HTTP_X_HAVEN_PURPOSE="case_management",
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="cases-')
    header, row = csv.reader(io.StringIO(response.content.decode("utf-8-sig")))
    assert dict(zip(header, row, strict=True))["subject"] == "'=HYPERLINK(1)"


# --------------------------------------------------------------------------- API


def test_api_takes_a_referral_to_an_active_arrangement(client, officer, manager, authoriser):
    def api(user):
        _, secret = account_services.issue_api_token(
            user, "t", modules=user.modules, can_write=True
        )
        return {"HTTP_AUTHORIZATION": f"Bearer {secret}", "HTTP_X_HAVEN_PURPOSE": "case_management"}

    as_officer, as_manager, as_authoriser = api(officer), api(manager), api(authoriser)
    body = {
        "subject_name": "Api Fictional",
        "subject_dob": "1985-02-03",
        "referring_organisation": "Midshire Police",
        "referring_officer": "DC Api",
        "threat_summary": "Threat",
        "urgency": "immediate",
        "manager": manager.username,
        "authoriser": authoriser.username,
    }
    bad = client.post(
        "/api/referrals",
        {**body, "subject_dob": "2999-01-01"},
        content_type="application/json",
        **as_officer,
    )
    assert bad.status_code == 422 and "subject_dob" in bad.json()["title"]
    created = client.post("/api/referrals", body, content_type="application/json", **as_officer)
    assert created.status_code == 201
    case_id = created.json()["case"]["id"]

    def post(path, payload, headers, status=201):
        response = client.post(
            f"/api/cases/{case_id}/{path}", payload, content_type="application/json", **headers
        )
        assert response.status_code == status, response.content
        return response.json()

    post("decisions", {"to_status": "assessed", "version": 1, "reason": "Assessed"}, as_officer)
    wrong = post("decisions", {"to_status": "active", "version": 2, "reason": "x"}, as_manager, 422)
    assert "cannot become Active" in wrong["title"]
    post(
        "decisions",
        {"to_status": "accepted", "version": 2, "reason": "Meets the test", **FACTORS},
        as_authoriser,
    )
    post("decisions", {"to_status": "active", "version": 3, "reason": "Go"}, as_manager)
    post("people", {"full_name": "Api Child", "relationship": "child"}, as_officer)
    post(
        "locations",
        {
            "kind": "residence",
            "address": "1 Api Way",
            "valid_from": "2026-01-01",
            "latitude": 52.1,
            "longitude": -1.2,
        },
        as_officer,
    )
    post(
        "contacts",
        {
            "occurred_at": "2026-01-02T10:00:00Z",
            "method": "phone",
            "summary": "Settling in",
            "concerns": ["strain"],
        },
        as_officer,
    )
    post("tasks", {"title": "Check alarm", "due_on": "2026-12-01"}, as_officer)
    post(
        "documents",
        {
            "title": "Plan",
            "filename": "plan.png",
            "content_base64": base64.b64encode(TINY_PNG).decode(),
        },
        as_officer,
    )
    timeline = client.get(f"/api/cases/{case_id}/timeline", **as_officer).json()
    titles = [item["title"] for item in timeline]
    assert "Accepted to Active" in titles and "Referral received" in titles
    assert client.get(f"/api/cases/{case_id}", **as_officer).json()["status"] == "active"
    people = client.get(f"/api/cases/{case_id}/people", **as_officer).json()
    assert {p["full_name"] for p in people} == {"Api Fictional", "Api Child"}

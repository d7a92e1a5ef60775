"""The partner and stakeholder directory: kept by protection managers (add, change with the
version read and a reason, retire, never delete), read by protection officers, every read and
change ledgered, contact details encrypted; contact logs may name an entry as the party and the
case's contact log then shows what that partner may be told. Oversight and technical roles
cannot reach it, on a page or through the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from haven.accounts import services as account_services
from haven.accounts.roles import Role
from haven.audit.models import Action, LedgerEntry
from haven.cases import selectors, services
from haven.cases.models import ContactEntry, Partner
from haven.cases.selectors import PartnerNotFound
from tests.factories import UserFactory, force_sign_in, make_case

pytestmark = pytest.mark.django_db
PURPOSE = "case_management"


@pytest.fixture
def officer():
    return UserFactory(roles=[Role.PROTECTION_OFFICER])


@pytest.fixture
def manager():
    return UserFactory(roles=[Role.PROTECTION_MANAGER])


@pytest.fixture
def partner(manager):
    return services.add_partner(
        manager,
        organisation="Northshire Housing Trust",
        contact_name="Wilhelmina Testcontact",
        role="Tenancy manager",
        contact_details="01632 960123",
        may_be_told="contact_route",
        may_be_told_notes="Never the new address",
    )


def web(client, user):
    force_sign_in(client, user)
    session = client.session
    session["haven_purpose"] = PURPOSE
    session.save()
    return client


def api_headers(user):
    _, secret = account_services.issue_api_token(user, "t", modules=user.modules, can_write=True)
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}", "HTTP_X_HAVEN_PURPOSE": PURPOSE}


# --------------------------------------------------------------------------- services


def test_manager_adds_an_entry_ledgered_and_encrypted(manager, partner):
    entry = LedgerEntry.objects.get(object_type="partner", object_id=str(partner.pk))
    assert entry.action == Action.COLLECTION
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT contact_name, contact_details FROM cases_partner WHERE id = %s",
            [partner.pk.hex if connection.vendor == "sqlite" else partner.pk],
        )
        stored = cursor.fetchone()
    assert "Wilhelmina" not in str(stored) and "960123" not in str(stored)
    assert Partner.objects.get(pk=partner.pk).contact_name == "Wilhelmina Testcontact"


def test_officer_cannot_add_change_or_retire(officer, partner):
    with pytest.raises(PermissionDenied):
        services.add_partner(
            officer, organisation="X", contact_name="Y", contact_details="Z", may_be_told="nothing"
        )
    with pytest.raises(PermissionDenied):
        services.edit_partner(officer, partner.pk, version=1, reason="r", organisation="New")
    with pytest.raises(PermissionDenied):
        services.retire_partner(officer, partner.pk, version=1, reason="r")
    assert Partner.objects.get(pk=partner.pk).version == 1


def test_bad_input_is_refused_and_nothing_is_saved(manager):
    with pytest.raises(ValidationError) as refused:
        services.add_partner(
            manager, organisation=" ", contact_name="", contact_details="", may_be_told="gossip"
        )
    assert set(refused.value.message_dict) == {
        "organisation",
        "contact_name",
        "contact_details",
        "may_be_told",
    }
    assert not Partner.objects.exists()


def test_change_needs_reason_and_current_version(manager, partner):
    with pytest.raises(ValidationError):
        services.edit_partner(manager, partner.pk, version=1, reason=" ", role="Director")
    changed = services.edit_partner(
        manager, partner.pk, version=1, reason="promoted", role="Director", may_be_told="safety"
    )
    assert (changed.version, changed.role, changed.may_be_told) == (2, "Director", "safety")
    entry = LedgerEntry.objects.filter(object_type="partner", action=Action.ALTERATION).get()
    assert set(entry.fields) == {"role", "may_be_told"}
    with pytest.raises(services.ConflictError):
        services.edit_partner(manager, partner.pk, version=1, reason="stale", role="Other")
    assert Partner.objects.get(pk=partner.pk).role == "Director"


def test_retired_entry_is_kept_hidden_from_pickers_and_frozen(manager, officer, partner):
    services.retire_partner(manager, partner.pk, version=1, reason="contract ended")
    kept = Partner.objects.get(pk=partner.pk)
    assert kept.retired and kept.retirement_reason == "contract ended"
    assert selectors.active_partners(officer) == []
    assert selectors.list_partners(officer) == []
    assert selectors.list_partners(officer, include_retired=True) == [kept]
    with pytest.raises(ValidationError):
        services.edit_partner(manager, partner.pk, version=2, reason="r", role="Again")


def test_reads_are_ledgered_and_refused_outside_protection(officer, partner):
    selectors.get_partner(officer, partner.pk)
    assert LedgerEntry.objects.filter(
        object_type="partner", object_id=str(partner.pk), action=Action.CONSULTATION
    ).exists()
    for role in (Role.OVERSIGHT_OFFICER, Role.TECHNICAL_OFFICER, Role.AUDITOR):
        outsider = UserFactory(roles=[role])
        with pytest.raises(PartnerNotFound):
            selectors.get_partner(outsider, partner.pk)
        with pytest.raises(PartnerNotFound):
            selectors.list_partners(outsider)


def test_contact_names_a_partner_and_refuses_a_retired_one(officer, manager, partner):
    case = make_case(officer, manager=manager)
    entry = services.log_contact(
        officer,
        case.pk,
        occurred_at=timezone.now() - timedelta(hours=1),
        method="phone",
        summary="Called the housing trust",
        partner_id=partner.pk,
    )
    assert ContactEntry.objects.get(pk=entry.pk).partner == partner
    services.retire_partner(manager, partner.pk, version=1, reason="contract ended")
    with pytest.raises(ValidationError) as refused:
        services.log_contact(
            officer,
            case.pk,
            occurred_at=timezone.now() - timedelta(hours=1),
            method="phone",
            summary="Again",
            partner_id=partner.pk,
        )
    assert "partner" in refused.value.message_dict
    assert ContactEntry.objects.filter(case=case).count() == 1


# --------------------------------------------------------------------------- pages


def test_officer_reaches_directory_from_protection_navigation(client, officer, partner):
    web(client, officer)
    assert 'href="/directory/"' in client.get("/").content.decode()
    cases_page = client.get("/cases/").content.decode()
    assert 'href="/directory/"' in cases_page
    listing = client.get("/directory/").content.decode()
    assert "Northshire Housing Trust" in listing
    assert "Add a partner" not in listing  # an officer reads, does not manage
    detail = client.get(f"/directory/{partner.pk}/").content.decode()
    assert "01632 960123" in detail and "Never the new address" in detail
    assert f"/directory/{partner.pk}/edit/" not in detail
    assert client.get("/directory/new/").status_code == 403
    retire = client.post(f"/directory/{partner.pk}/retire/", {"version": 1, "reason": "x"})
    assert retire.status_code == 403
    assert not Partner.objects.get(pk=partner.pk).retired


def test_manager_adds_changes_and_retires_on_pages(client, manager):
    web(client, manager)
    assert "Add a partner" in client.get("/directory/").content.decode()
    empty = client.post("/directory/new/", {})
    assert empty.status_code == 200 and b"Enter organisation" in empty.content
    assert not Partner.objects.exists()
    added = client.post(
        "/directory/new/",
        {
            "organisation": "Northshire School",
            "contact_name": "Ottoline Testhead",
            "contact_details": "head@example.invalid",
            "may_be_told": "existence",
        },
    )
    partner = Partner.objects.get()
    assert added.status_code == 302 and added["Location"] == f"/directory/{partner.pk}/"
    no_reason = client.post(
        f"/directory/{partner.pk}/edit/",
        {
            "version": 1,
            "organisation": "Northshire Academy",
            "contact_name": "Ottoline Testhead",
            "contact_details": "head@example.invalid",
            "may_be_told": "existence",
        },
    )
    assert (
        no_reason.status_code == 200 and Partner.objects.get().organisation == "Northshire School"
    )
    client.post(
        f"/directory/{partner.pk}/edit/",
        {
            "version": 1,
            "organisation": "Northshire Academy",
            "contact_name": "Ottoline Testhead",
            "contact_details": "head@example.invalid",
            "may_be_told": "existence",
            "reason": "renamed",
        },
    )
    assert Partner.objects.get().organisation == "Northshire Academy"
    confirm = client.get(f"/directory/{partner.pk}/retire/").content.decode()
    assert "Retire entry" in confirm
    client.post(f"/directory/{partner.pk}/retire/", {"version": 2, "reason": "closed"})
    assert Partner.objects.get().retired


def test_contact_form_offers_partners_and_hub_shows_what_they_may_be_told(
    client, officer, manager, partner
):
    case = make_case(officer, manager=manager)
    web(client, officer)
    form = client.get(f"/cases/{case.pk}/contacts/new/").content.decode()
    assert "Northshire Housing Trust" in form
    client.post(
        f"/cases/{case.pk}/contacts/new/",
        {
            "occurred_at": (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "method": "phone",
            "summary": "Asked about repairs",
            "partner": str(partner.pk),
        },
    )
    assert ContactEntry.objects.get(case=case).partner == partner
    hub = client.get(f"/cases/{case.pk}/contacts/").content.decode()
    assert "How to reach the protection team, nothing more" in hub
    assert "Never the new address" in hub


@pytest.mark.parametrize(
    "role", [Role.OVERSIGHT_OFFICER, Role.OVERSIGHT_HEAD, Role.TECHNICAL_OFFICER, Role.AUDITOR]
)
def test_other_modules_cannot_reach_the_directory(client, role, partner):
    outsider = UserFactory(roles=[role])
    web(client, outsider)
    assert 'href="/directory/"' not in client.get("/").content.decode()
    assert client.get("/directory/").status_code == 404
    assert client.get(f"/directory/{partner.pk}/").status_code == 404
    assert client.post("/directory/new/", {"organisation": "X"}).status_code == 404
    headers = api_headers(outsider)
    assert client.get("/api/partners", **headers).status_code in (401, 403, 404)
    assert client.get(f"/api/partners/{partner.pk}", **headers).status_code in (401, 403, 404)
    assert Partner.objects.count() == 1


# --------------------------------------------------------------------------- API


def test_api_read_by_officer_changed_by_manager(client, officer, manager, partner):
    officer_headers = api_headers(officer)
    listed = client.get("/api/partners", **officer_headers)
    assert listed.status_code == 200 and listed.json()[0]["organisation"] == partner.organisation
    one = client.get(f"/api/partners/{partner.pk}", **officer_headers).json()
    assert one["may_be_told"] == "contact_route"
    refused = client.post(
        "/api/partners",
        {
            "organisation": "X",
            "contact_name": "Y",
            "contact_details": "Z",
            "may_be_told": "nothing",
        },
        content_type="application/json",
        **officer_headers,
    )
    assert refused.status_code == 403
    manager_headers = api_headers(manager)
    bad = client.post(
        "/api/partners",
        {"organisation": "X", "contact_name": "Y", "contact_details": "Z", "may_be_told": "gossip"},
        content_type="application/json",
        **manager_headers,
    )
    assert bad.status_code == 422 and bad["Content-Type"].startswith("application/problem+json")
    changed = client.patch(
        f"/api/partners/{partner.pk}",
        {"version": 1, "reason": "new number", "contact_details": "01632 960999"},
        content_type="application/json",
        **manager_headers,
    )
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = client.patch(
        f"/api/partners/{partner.pk}",
        {"version": 1, "reason": "again", "role": "Other"},
        content_type="application/json",
        **manager_headers,
    )
    assert stale.status_code == 409
    retired = client.post(
        f"/api/partners/{partner.pk}/retirement",
        {"version": 2, "reason": "closed"},
        content_type="application/json",
        **manager_headers,
    )
    assert retired.status_code == 200 and retired.json()["retired_at"]
    assert Partner.objects.count() == 1

"""Issue 18 item 6: vetting, designations and training per person; clearance never above
current vetting; a lapsed vetting lowers the effective clearance everywhere need-to-know is
checked, and says so; lapsing items are announced to the person and their line manager."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from haven.accounts import services
from haven.accounts.models import ExpiryNotice, Qualification, User
from haven.accounts.roles import Clearance, Role, VettingLevel
from haven.audit import state
from haven.cases.models import Case
from haven.notifications.models import Notification
from haven.runtime.periodic import jobs
from tests.factories import UserFactory, force_sign_in, issue_token, make_case

pytestmark = pytest.mark.django_db
TODAY = date(2027, 3, 1)


@pytest.fixture
def admin() -> User:
    return UserFactory(roles=[Role.ADMINISTRATOR], clearance=Clearance.OFFICIAL)


def lapse_vetting(user: User) -> None:
    """Time passes: the recorded expiry is now yesterday (no service back-dates a vetting)."""
    yesterday = timezone.localdate() - timedelta(days=1)
    User.objects.filter(pk=user.pk).update(vetting_expires=yesterday)
    user.refresh_from_db()


def with_purpose(client: Client) -> Client:
    session = client.session
    session["haven_purpose"] = "case_management"
    session.save()
    return client


def test_an_officer_whose_vetting_lapsed_can_no_longer_open_a_secret_case(admin):
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER], clearance=Clearance.SECRET)
    services.record_vetting(
        officer,
        by=admin,
        level=VettingLevel.SC,
        expires=timezone.localdate() + timedelta(days=300),
        line_manager=None,
    )
    case = make_case(officer, classification=Clearance.SECRET)
    outsider = with_purpose(force_sign_in(Client(), UserFactory(roles=[Role.PROTECTION_OFFICER])))
    web = with_purpose(force_sign_in(Client(), officer))
    _, secret = issue_token(officer)
    api = {"HTTP_AUTHORIZATION": f"Bearer {secret}", "HTTP_X_HAVEN_PURPOSE": "case_management"}
    assert web.get(f"/cases/{case.pk}/").status_code == 200
    assert Client().get(f"/api/cases/{case.pk}", **api).status_code == 200

    lapse_vetting(officer)
    assert officer.effective_clearance == Clearance.OFFICIAL
    refused = web.get(f"/cases/{case.pk}/")
    normal = outsider.get(f"/cases/{case.pk}/")
    assert refused.status_code == normal.status_code == 404
    assert (
        refused.content == normal.content.replace(b"", b"") or b"Page not found" in refused.content
    )
    assert Client().get(f"/api/cases/{case.pk}", **api).status_code == 404
    assert case.reference not in web.get("/cases/").content.decode()
    # The person is told why: in the header and on their account page.
    profile = web.get("/accounts/profile/").content.decode()
    assert "limited by vetting" in profile and "Your vetting has lapsed" in profile
    assert Case.objects.filter(pk=case.pk).exists()


def test_the_account_page_shows_the_effective_clearance(admin):
    person = UserFactory(clearance=Clearance.SECRET, vetting_level=VettingLevel.SC)
    lapse_vetting(person)
    page = force_sign_in(Client(), admin).get(f"/administration/users/{person.pk}/")
    text = page.content.decode()
    assert 'data-testid="vetting-warning"' in text and "effective clearance is OFFICIAL" in text


def test_an_administrator_cannot_set_clearance_above_current_vetting(admin):
    person = UserFactory(roles=[Role.PROTECTION_OFFICER], clearance=Clearance.OFFICIAL)
    client = force_sign_in(Client(), admin)
    url = f"/administration/users/{person.pk}/access/"
    form = {"roles": [Role.PROTECTION_OFFICER], "reason": "Needs it"}
    refused = client.post(url, {**form, "clearance": Clearance.SECRET}).content.decode()
    assert "Record a vetting that supports SECRET" in refused
    assert 'id="id_clearance-error"' in refused  # on the field, not only in the summary
    services.record_vetting(
        person, by=admin, level=VettingLevel.SC, expires=None, line_manager=None
    )
    too_high = client.post(url, {**form, "clearance": Clearance.TOP_SECRET}).content.decode()
    assert "supports clearance up to SECRET, not TOP SECRET" in too_high
    assert client.post(url, {**form, "clearance": Clearance.SECRET}).status_code == 302
    person.refresh_from_db()
    assert person.clearance == Clearance.SECRET
    lapse_vetting(person)
    with pytest.raises(ValidationError, match="lapsed"):
        services.change_account_access(
            person, roles=person.roles, clearance=Clearance.SECRET, by=admin, reason="again"
        )
    _, secret = issue_token(admin)
    api = Client().post(
        "/api/accounts",
        json.dumps(
            {
                "username": "toohigh",
                "first_name": "T",
                "last_name": "H",
                "roles": [Role.AUDITOR],
                "clearance": Clearance.TOP_SECRET,
                "vetting_level": VettingLevel.SC,
            }
        ),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert api.status_code == 422 and "clearance" in api.json()["title"]
    assert not User.objects.filter(username="toohigh").exists()


def test_vetting_and_training_are_managed_from_the_account_page(admin):
    person = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    manager = UserFactory(roles=[Role.TECHNICAL_SUPERVISOR])
    client = force_sign_in(Client(), admin)
    base = f"/administration/users/{person.pk}"
    expires = timezone.localdate() + timedelta(days=400)
    response = client.post(
        f"{base}/vetting/",
        {"vetting_level": VettingLevel.SC, "vetting_expires": expires, "line_manager": manager.pk},
    )
    assert response.status_code == 302
    past = client.post(f"{base}/vetting/", {"vetting_level": "sc", "vetting_expires": "2001-01-01"})
    assert "The expiry date must be today or later" in past.content.decode()
    added = client.post(
        f"{base}/qualifications/new/",
        {
            "kind": "designation",
            "title": "NCA designation: powers of a constable",
            "held_from": "2026-01-01",
            "expires_on": "2028-01-01",
        },
    )
    assert added.status_code == 302
    item = Qualification.objects.get(user=person)
    page = client.get(f"{base}/").content.decode()
    assert "NCA designation: powers of a constable" in page and "Security Check (SC)" in page
    client.post(f"{base}/qualifications/{item.pk}/remove/")
    assert not Qualification.objects.filter(user=person).exists()
    person.refresh_from_db()
    assert person.line_manager == manager and person.vetting_expires == expires


def test_vetting_raised_by_sql_is_named_by_audit_verify_state(admin):
    person = UserFactory()
    services.record_vetting(
        person, by=admin, level=VettingLevel.SC, expires=None, line_manager=None
    )
    assert not [line for line in state.unexplained_rows() if "vetting" in line]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET vetting_level = 'dv' WHERE id = %s", [person.pk])
    [line] = [line for line in state.unexplained_rows() if "vetting" in line]
    assert f"(#{person.pk}): vetting dv" in line


@override_settings(EXPIRY_NOTICE_DAYS=(30, 7))
def test_lapsing_items_are_announced_to_the_person_and_their_manager_once_each(admin):
    manager = UserFactory(roles=[Role.PROTECTION_MANAGER])
    person = UserFactory(line_manager=manager)
    User.objects.filter(pk=person.pk).update(
        vetting_level=VettingLevel.SC, vetting_expires=TODAY + timedelta(days=30)
    )
    Qualification.objects.create(
        user=person,
        kind="training",
        title="Firearms awareness",
        held_from=date(2026, 1, 1),
        expires_on=TODAY + timedelta(days=30),
    )

    def inbox(user: User) -> list[str]:
        return [note.message for note in Notification.objects.filter(user=user).order_by("pk")]

    assert services.send_expiry_notices(TODAY - timedelta(days=1)) == 0  # 31 days out
    assert services.send_expiry_notices(TODAY) == 2
    assert services.send_expiry_notices(TODAY) == 0  # once each
    assert len(inbox(person)) == len(inbox(manager)) == 2
    assert any("vetting lapses on" in message for message in inbox(person))
    assert any(str(person) in message and "Firearms" in message for message in inbox(manager))
    assert services.send_expiry_notices(TODAY + timedelta(days=22)) == 0  # 8 days out
    assert services.send_expiry_notices(TODAY + timedelta(days=23)) == 2  # 7 days
    assert services.send_expiry_notices(TODAY + timedelta(days=31)) == 2  # lapsed
    assert services.send_expiry_notices(TODAY + timedelta(days=32)) == 0
    assert ExpiryNotice.objects.filter(user=person, item="vetting").count() == 3
    assert "send_expiry_notices" in [job.name for job in jobs()]


def test_only_administrators_reach_the_vetting_pages_and_api(admin):
    person = UserFactory()
    for role in (Role.PROTECTION_MANAGER, Role.AUDITOR, Role.TECHNICAL_SUPERVISOR):
        user = UserFactory(roles=[role])
        client = force_sign_in(Client(), user)
        assert client.get(f"/administration/users/{person.pk}/vetting/").status_code == 404
        assert (
            client.post(
                f"/administration/users/{person.pk}/vetting/", {"vetting_level": "dv"}
            ).status_code
            == 404
        )
        _, secret = issue_token(user)
        api = Client().put(
            f"/api/accounts/{person.pk}/vetting",
            json.dumps({"vetting_level": "dv"}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
        )
        assert api.status_code == 404
    person.refresh_from_db()
    assert person.vetting_level == ""


def test_vetting_below_the_clearance_held_is_refused_until_the_clearance_is_lowered(admin):
    person = UserFactory(roles=[Role.PROTECTION_OFFICER], clearance=Clearance.SECRET)
    services.record_vetting(
        person, by=admin, level=VettingLevel.SC, expires=None, line_manager=None
    )
    lapse_vetting(person)
    # Clearing or lowering a lapsed vetting would otherwise hand back the granted clearance.
    for level in ("", VettingLevel.BPSS):
        with pytest.raises(ValidationError, match="lower the clearance first"):
            services.record_vetting(person, by=admin, level=level, expires=None, line_manager=None)
    assert User.objects.get(pk=person.pk).effective_clearance == Clearance.OFFICIAL
    services.change_account_access(
        person, roles=person.roles, clearance=Clearance.OFFICIAL, by=admin, reason="Lapsed"
    )
    services.record_vetting(person, by=admin, level="", expires=None, line_manager=None)
    assert User.objects.get(pk=person.pk).effective_clearance == Clearance.OFFICIAL

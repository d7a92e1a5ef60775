"""A partner directory entry keeps its history: every change records the values it replaced,
who made it, when and why (haven.revisions), shown on the entry's page and by the API."""

from __future__ import annotations

import pytest

from haven.accounts import services as account_services
from haven.accounts.roles import Role
from haven.cases import selectors, services
from haven.cases.models import PartnerRevision
from haven.cases.selectors import PartnerNotFound
from haven.concurrency.locking import ConflictError
from tests.factories import UserFactory, force_sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    return UserFactory(roles=[Role.PROTECTION_MANAGER])


@pytest.fixture
def partner(manager):
    return services.add_partner(
        manager,
        organisation="Northshire Housing Trust",
        contact_name="Wilhelmina Testcontact",
        contact_details="01632 960123",
        may_be_told="contact_route",
    )


def test_a_change_keeps_the_old_values_with_who_when_and_why(manager, partner):
    services.edit_partner(
        manager, partner.pk, version=1, reason="new number", contact_details="01632 960999"
    )
    revision = PartnerRevision.objects.get(partner=partner)
    assert revision.previous == {"contact_details": "01632 960123"}
    assert (revision.version, revision.reason, revision.changed_by) == (1, "new number", manager)
    with pytest.raises(ConflictError):
        services.edit_partner(manager, partner.pk, version=1, reason="late", role="Other")
    assert PartnerRevision.objects.filter(partner=partner).count() == 1


def test_the_history_is_on_the_partner_page_and_in_the_api(client, manager, partner):
    services.edit_partner(
        manager, partner.pk, version=1, reason="renamed", organisation="Northshire Homes"
    )
    force_sign_in(client, UserFactory(roles=[Role.PROTECTION_OFFICER]))
    page = client.get(f"/directory/{partner.pk}/").content.decode()
    assert "Northshire Housing Trust" in page and "renamed" in page and "Version 1" in page
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER])
    _, secret = account_services.issue_api_token(
        officer, "t", modules=officer.modules, can_write=False
    )
    history = client.get(
        f"/api/partners/{partner.pk}/history", HTTP_AUTHORIZATION=f"Bearer {secret}"
    ).json()
    assert history["version"] == 2
    assert history["earlier"][0]["previous"] == {"organisation": "Northshire Housing Trust"}


def test_no_one_outside_protection_reads_a_partners_history(partner):
    technician = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    with pytest.raises(PartnerNotFound):
        selectors.partner_history(technician, partner.pk)

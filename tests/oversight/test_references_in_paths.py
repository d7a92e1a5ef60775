"""A complaint's reference where its id goes in a URL (issue 20): the same complaint for an
oversight user cleared to it, the answer an unknown id gets for anyone else."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from haven.accounts.roles import Clearance, Role
from haven.oversight.models import Complaint
from tests.cases.helpers import api_headers
from tests.factories import UserFactory, force_sign_in
from tests.oversight.helpers import complaint, head, officer

pytestmark = pytest.mark.django_db


def test_a_complaint_opens_by_reference_for_those_who_may_see_it():
    caseworker = officer(clearance=Clearance.SECRET)
    record = complaint(caseworker)
    client = force_sign_in(Client(), caseworker)
    by_id = client.get(f"/oversight/complaints/{record.pk}/")
    by_reference = client.get(f"/oversight/complaints/{record.reference}/")
    assert by_id.status_code == by_reference.status_code == 200
    assert record.reference in by_reference.content.decode()
    api = client.get(f"/api/oversight/complaints/{record.reference}", **api_headers(caseworker))
    assert api.status_code == 200 and api.json()["id"] == str(record.pk)

    Complaint.objects.filter(pk=record.pk).update(classification=Clearance.SECRET)
    for user in (
        officer(clearance=Clearance.OFFICIAL),
        UserFactory(roles=[Role.PROTECTION_OFFICER]),
    ):
        outsider = force_sign_in(Client(), user)
        unknown = outsider.get(f"/oversight/complaints/{uuid.uuid4()}/").status_code
        assert outsider.get(f"/oversight/complaints/{record.reference}/").status_code == unknown
        assert unknown in (403, 404)
    uncleared = officer(clearance=Clearance.OFFICIAL)
    refused = Client().get(
        f"/api/oversight/complaints/{record.reference}", **api_headers(uncleared)
    )
    assert refused.status_code == 404


def test_hearings_tribunals_forfeitures_and_meetings_open_by_reference():
    from datetime import date

    from haven.oversight import services

    staff = head()
    records = {
        "hearings": services.create_hearing(
            staff, officer_reference="PC 1", force="Fictional Force", referral_date=date(2024, 6, 1)
        ),
        "tribunals": services.create_tribunal(
            staff, appellant_reference="PC 2", notice_received_on=date(2025, 1, 1)
        ),
        "forfeitures": services.create_forfeiture(
            staff,
            officer_reference="PC 3",
            offence="Fictional",
            ground="treason",
            conviction_on=date(2024, 1, 1),
        ),  # fmt: skip
        "governance": services.create_meeting(
            staff, kind="accountability", title="Board", held_on=date(2025, 1, 6)
        ),
    }
    client = force_sign_in(Client(), staff)
    outsider = force_sign_in(Client(), UserFactory(roles=[Role.PROTECTION_OFFICER]))
    for kind, record in records.items():
        by_reference = client.get(f"/oversight/{kind}/{record.reference}/")
        assert by_reference.status_code == 200, kind
        assert record.reference in by_reference.content.decode()
        assert client.get(f"/oversight/{kind}/{record.pk}/").status_code == 200
        unknown = outsider.get(f"/oversight/{kind}/{uuid.uuid4()}/").status_code
        assert outsider.get(f"/oversight/{kind}/{record.reference}/").status_code == unknown
        # a reference of another series names nothing here
        other = next(r for k, r in records.items() if k != kind)
        assert client.get(f"/oversight/{kind}/{other.reference}/").status_code == 404
    headers = api_headers(staff)
    hearing, meeting = records["hearings"], records["governance"]
    api = client.get(f"/api/oversight/hearings/{hearing.reference}", **headers)
    assert api.status_code == 200 and api.json()["id"] == str(hearing.pk)
    api = client.get(f"/api/oversight/governance/meetings/{meeting.reference}", **headers)
    assert api.status_code == 200 and api.json()["id"] == str(meeting.pk)

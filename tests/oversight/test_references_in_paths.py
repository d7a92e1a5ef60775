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
from tests.oversight.helpers import complaint, officer

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

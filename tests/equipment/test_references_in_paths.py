"""A deployment's reference where its id goes in a URL (issue 20): the same deployment for its
team, the answer an unknown id gets for anyone else, in the web and the API."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from tests.equipment.helpers import make_deployment, supervisor, technician
from tests.equipment.test_api_and_views import api_client
from tests.factories import force_sign_in

pytestmark = pytest.mark.django_db


def test_a_deployment_opens_by_reference_for_its_team_only():
    boss = supervisor()
    deployment = make_deployment(boss)
    client = force_sign_in(Client(), boss)
    page = client.get(f"/operations/deployments/{deployment.reference}/")
    assert page.status_code == 200 and deployment.title in page.content.decode()
    api = api_client(boss).get(f"/api/equipment/deployments/{deployment.reference}")
    assert api.status_code == 200 and api.json()["id"] == str(deployment.pk)

    outsider = force_sign_in(Client(), technician())
    unknown = outsider.get(f"/operations/deployments/{uuid.uuid4()}/").status_code
    assert outsider.get(f"/operations/deployments/{deployment.reference}/").status_code == unknown
    assert outsider.get(f"/operations/deployments/{deployment.pk}/").status_code == unknown
    assert outsider.get("/operations/deployments/DEP-2026-9999/").status_code == unknown == 404
    api = api_client(technician())
    assert api.get(f"/api/equipment/deployments/{deployment.reference}").status_code == 404

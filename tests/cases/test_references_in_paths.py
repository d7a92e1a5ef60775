"""A case's reference typed where its id goes in a URL (issue 20 "references everywhere"):
`/cases/HVN-2026-00052/` and `/api/cases/HVN-2026-00052` open the case for someone who may
see it, and answer exactly as an unknown id does for someone who may not."""

from __future__ import annotations

import uuid

import pytest

from haven.accounts.roles import Role
from haven.cases import services
from haven.cases.models import OBJECT_TYPE
from haven.equipment.models import DEPLOYMENT
from haven.oversight.models import COMPLAINT
from haven.ui import paths
from tests.cases.helpers import api_headers, web
from tests.factories import UserFactory, make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer():
    return UserFactory(roles=[Role.PROTECTION_OFFICER])


@pytest.fixture
def case(officer):
    return make_case(officer)


def test_the_converters_name_the_domains_object_types():
    assert paths.CaseConverter.object_type == OBJECT_TYPE
    assert paths.DeploymentConverter.object_type == DEPLOYMENT
    assert paths.ComplaintConverter.object_type == COMPLAINT


def test_a_reference_names_its_case_and_nothing_else(case):
    assert paths.id_named_by(case.reference, OBJECT_TYPE) == case.pk
    assert paths.id_named_by(case.reference.lower(), OBJECT_TYPE) == case.pk
    assert paths.id_named_by(str(case.pk), OBJECT_TYPE) == case.pk
    assert paths.id_named_by("HVN-2026-99999", OBJECT_TYPE) == paths.NOTHING
    assert paths.id_named_by(case.reference, DEPLOYMENT) == paths.NOTHING  # another series
    with pytest.raises(ValueError):
        paths.id_named_by("not a reference", OBJECT_TYPE)


def test_the_case_pages_open_by_reference_for_the_team(client, officer, case):
    web(client, officer)
    for where in ("", "contacts/", "people/", "tasks/"):
        by_id = client.get(f"/cases/{case.pk}/{where}")
        by_reference = client.get(f"/cases/{case.reference}/{where}")
        assert by_id.status_code == by_reference.status_code == 200, where
        assert case.reference in by_reference.content.decode(), where
    assert case.subject_name in client.get(f"/cases/{case.reference}/").content.decode()
    assert client.get(f"/cases/{case.reference.lower()}/").status_code == 200
    assert client.get(f"/risk/cases/{case.reference}/").status_code == (
        client.get(f"/risk/cases/{case.pk}/").status_code
    )
    # A form posted to the reference's address acts on the same case.
    logged = client.post(
        f"/cases/{case.reference}/tasks/new/",
        {
            "kind": "task",
            "title": "Visit",
            "owner": str(officer.pk),
            "due_on_day": "1",
            "due_on_month": "1",
            "due_on_year": "2030",
        },
    )
    assert logged.status_code == 302 and case.tasks.count() == 1


@pytest.mark.parametrize("who", ["other officer", "technician", "oversight"])
def test_anyone_else_gets_the_answer_an_unknown_id_gets(client, case, who):
    roles = {
        "other officer": Role.PROTECTION_OFFICER,
        "technician": Role.TECHNICAL_OFFICER,
        "oversight": Role.OVERSIGHT_OFFICER,
    }
    web(client, UserFactory(roles=[roles[who]]))
    unknown = client.get(f"/cases/{uuid.uuid4()}/")
    for path in (f"/cases/{case.reference}/", "/cases/HVN-2026-99999/", f"/cases/{case.pk}/"):
        response = client.get(path)
        assert response.status_code == unknown.status_code, path
        assert case.subject_name not in response.content.decode()
    assert client.get(f"/cases/{case.reference}/contacts/").status_code == (
        client.get(f"/cases/{uuid.uuid4()}/contacts/").status_code
    )


def test_the_api_takes_a_reference_in_the_path(client, officer, case):
    got = client.get(f"/api/cases/{case.reference}", **api_headers(officer))
    assert got.status_code == 200 and got.json()["id"] == str(case.pk)
    contact = {"occurred_at": "2026-01-01T10:00:00Z", "method": "phone", "summary": "By ref"}
    logged = client.post(
        f"/api/cases/{case.reference}/contacts",
        contact,
        content_type="application/json",
        **api_headers(officer),
    )
    assert logged.status_code == 201 and case.contacts.count() == 1
    assert client.get("/api/cases/HVN-2026-99999", **api_headers(officer)).status_code == 404
    assert client.get("/api/cases/not-an-id", **api_headers(officer)).status_code == 422


def test_the_api_answers_404_to_anyone_who_may_not_see_the_case(client, case):
    outsider = UserFactory(roles=[Role.PROTECTION_OFFICER])
    unknown = client.get(f"/api/cases/{uuid.uuid4()}", **api_headers(outsider))
    by_reference = client.get(f"/api/cases/{case.reference}", **api_headers(outsider))
    assert unknown.status_code == by_reference.status_code == 404
    same = {key: value for key, value in unknown.json().items() if key != "support_id"}
    assert {k: v for k, v in by_reference.json().items() if k != "support_id"} == same
    assert case.subject_name not in by_reference.content.decode()
    services.add_member(case, outsider, "officer")
    assert client.get(f"/api/cases/{case.reference}", **api_headers(outsider)).status_code == 200


def test_the_api_documents_either_form():
    from haven.api import api

    operation = api.get_openapi_schema()["paths"]["/api/cases/{case_id}"]["get"]
    (parameter,) = [p for p in operation["parameters"] if p["name"] == "case_id"]
    assert "HVN-2026-00052" in parameter["schema"]["description"]

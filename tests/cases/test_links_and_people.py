"""Linked cases (e.g. family members protected in separate cases) and finding people of every
role by name. A link shows from both cases, and only to someone who may see both: a link to a
case the reader may not see leaves no trace, not even a count. The person search is the POST
form (never a name in a URL) and finds principals, family and associates on cases within reach."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from haven.accounts.roles import Clearance, Role
from haven.audit.models import Action, LedgerEntry
from haven.cases import selectors, services
from haven.cases.models import CaseLink
from tests.cases.helpers import PURPOSE, api_headers, web
from tests.factories import UserFactory, make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer():
    return UserFactory(roles=[Role.PROTECTION_OFFICER])


@pytest.fixture
def manager():
    return UserFactory(roles=[Role.PROTECTION_MANAGER])


@pytest.fixture
def sister(officer, manager):
    return make_case(officer, manager=manager, name="Orla Siblingcase")


@pytest.fixture
def brother(officer, manager):
    return make_case(officer, manager=manager, name="Piers Siblingcase")


# --------------------------------------------------------------------------- linked cases


def test_team_links_two_cases_by_reference_seen_from_both(officer, sister, brother):
    link = services.link_cases(officer, sister.pk, brother.reference, reason="Her brother")
    assert (link.case, link.linked_case) == (sister, brother)
    from_sister = selectors.case_links(officer, sister, PURPOSE)
    from_brother = selectors.case_links(officer, brother, PURPOSE)
    assert [item.case for item in from_sister] == [brother]
    assert [item.case for item in from_brother] == [sister]
    assert from_brother[0].link.reason == "Her brother"
    made = LedgerEntry.objects.filter(object_type="case_link", action=Action.COLLECTION)
    assert {str(entry.case_id) for entry in made} == {str(sister.pk), str(brother.pk)}


def test_a_link_is_refused_when_bad_and_nothing_is_saved(officer, sister, brother):
    with pytest.raises(ValidationError) as refused:
        services.link_cases(officer, sister.pk, "HVN-1999-99999", reason=" ")
    assert set(refused.value.message_dict) == {"linked_case", "reason"}
    with pytest.raises(ValidationError):
        services.link_cases(officer, sister.pk, sister.reference, reason="itself")
    services.link_cases(officer, sister.pk, brother.reference, reason="siblings")
    with pytest.raises(ValidationError, match="already linked"):
        services.link_cases(officer, brother.pk, sister.reference, reason="again, reversed")
    assert CaseLink.objects.count() == 1


def test_a_case_the_linker_cannot_see_is_refused_like_a_missing_one(officer, sister):
    hidden = make_case(UserFactory(roles=[Role.PROTECTION_OFFICER]), name="Quinn Hiddencase")
    with pytest.raises(ValidationError) as unseen:
        services.link_cases(officer, sister.pk, hidden.reference, reason="guess")
    with pytest.raises(ValidationError) as missing:
        services.link_cases(officer, sister.pk, "HVN-1999-99999", reason="guess")
    assert unseen.value.message_dict == missing.value.message_dict
    assert not CaseLink.objects.exists()


def test_a_grant_reader_may_not_link(manager, sister, brother):
    reader = UserFactory(roles=[Role.PROTECTION_OFFICER])
    services.grant_access(manager, sister.pk, reader, reason="cover", days=2)
    with pytest.raises(PermissionDenied):
        services.link_cases(reader, sister.pk, brother.reference, reason="r")
    page = web(Client(), reader).get(f"/cases/{sister.pk}/people/")
    assert page.status_code == 200 and b"Link this case" not in page.content


def test_a_link_to_a_case_the_reader_cannot_see_shows_nothing(officer, manager, sister, brother):
    """The sister's other officer is not on the brother's team: no row, no count, no hint."""
    services.link_cases(officer, sister.pk, brother.reference, reason="Her brother Piers")
    colleague = UserFactory(roles=[Role.PROTECTION_OFFICER])
    services.add_team_member(manager, sister.pk, colleague, "officer")
    assert selectors.case_links(colleague, sister, PURPOSE) == []
    page = web(Client(), colleague).get(f"/cases/{sister.pk}/people/").content.decode()
    assert brother.reference not in page and "Piers" not in page and "Her brother" not in page
    assert 'data-testid="linked-cases"' not in page
    api = Client().get(f"/api/cases/{sister.pk}/links", **api_headers(colleague))
    assert api.status_code == 200 and api.json() == []
    # The officer on both teams sees it, on the page and through the API.
    own = web(Client(), officer).get(f"/cases/{sister.pk}/people/").content.decode()
    assert brother.reference in own and "Her brother Piers" in own
    listed = Client().get(f"/api/cases/{sister.pk}/links", **api_headers(officer)).json()
    assert [row["case_reference"] for row in listed] == [brother.reference]


def test_a_higher_marked_linked_case_raises_the_page_marking(officer, sister):
    cleared = UserFactory(roles=[Role.PROTECTION_OFFICER], clearance=Clearance.TOP_SECRET)
    services.add_member(sister, cleared, "officer")
    top = make_case(cleared, name="Rhea Topcase", classification=Clearance.TOP_SECRET)
    services.link_cases(cleared, sister.pk, top.reference, reason="cousin")
    page = web(Client(), cleared).get(f"/cases/{sister.pk}/people/").content.decode()
    assert "TOP SECRET" in page
    plain = web(Client(), officer).get(f"/cases/{sister.pk}/people/").content.decode()
    assert "TOP SECRET" not in plain and top.reference not in plain


def test_team_links_cases_on_the_page_and_through_the_api(client, officer, sister, brother):
    web(client, officer)
    people = client.get(f"/cases/{sister.pk}/people/")
    assert f"/cases/{sister.pk}/links/new/".encode() in people.content
    empty = client.post(f"/cases/{sister.pk}/links/new/", {"linked_case": "", "reason": ""})
    assert empty.status_code == 200 and b"Say how the cases are linked" in empty.content
    done = client.post(
        f"/cases/{sister.pk}/links/new/", {"linked_case": brother.reference, "reason": "Siblings"}
    )
    assert done.status_code == 302 and CaseLink.objects.count() == 1
    third = make_case(officer, name="Sam Thirdcase")
    made = client.post(
        f"/api/cases/{third.pk}/links",
        {"linked_case": brother.reference, "reason": "Cousin"},
        content_type="application/json",
        **api_headers(officer),
    )
    assert made.status_code == 201 and made.json()["case_reference"] == brother.reference
    bad = client.post(
        f"/api/cases/{third.pk}/links",
        {"linked_case": "HVN-1999-99999", "reason": "Cousin"},
        content_type="application/json",
        **api_headers(officer),
    )
    assert bad.status_code == 422 and CaseLink.objects.count() == 2


# --------------------------------------------------------------------------- finding people


def test_person_search_finds_family_members_with_their_case_and_relationship(
    client, officer, sister
):
    services.add_person(officer, sister.pk, full_name="Tara Familymember", relationship="child")
    web(client, officer)
    found = client.post("/cases/", {"name": "tara familymember"}).content.decode()
    assert "Tara Familymember" in found and sister.reference in found
    assert "Child" in found and "of Orla Siblingcase" in found
    principal = client.post("/cases/", {"name": "Orla Siblingcase"}).content.decode()
    assert 'data-testid="people-found"' in principal and "Principal" in principal
    nobody = client.post("/cases/", {"name": "Nobody Atall"}).content.decode()
    assert 'data-testid="no-people"' in nobody
    assert client.get("/cases/?name=Tara+Familymember").status_code == 400  # never in a URL
    assert LedgerEntry.objects.filter(
        object_type="person", object_id="search", action=Action.CONSULTATION
    ).exists()


def test_person_search_stays_within_the_searchers_reach(client, officer, sister):
    services.add_person(officer, sister.pk, full_name="Uma Reachtest", relationship="partner")
    other = UserFactory(roles=[Role.PROTECTION_OFFICER])
    elsewhere = make_case(other, name="Vic Elsewhere")
    services.add_person(other, elsewhere.pk, full_name="Uma Reachtest", relationship="sibling")
    matches = selectors.find_people(officer, selectors.CaseSearch(name="Uma Reachtest"), PURPOSE)
    assert [(m.case, m.person.relationship) for m in matches] == [(sister, "partner")]
    web(client, other)
    page = client.post("/cases/", {"name": "Uma Reachtest"}).content.decode()
    assert elsewhere.reference in page and sister.reference not in page
    dated = selectors.find_people(
        officer, selectors.CaseSearch(name="Uma Reachtest", dob="1 January 1990"), PURPOSE
    )
    assert dated == []  # no date of birth recorded: an exact date cannot match


def test_people_search_through_the_api(client, officer, sister):
    services.add_person(officer, sister.pk, full_name="Wren Apifamily", relationship="parent")
    headers = api_headers(officer)
    found = client.post(
        "/api/people/search", {"name": "Wren Apifamily"}, content_type="application/json", **headers
    )
    assert found.status_code == 200
    assert [(r["case_reference"], r["relationship"], r["role"]) for r in found.json()] == [
        (sister.reference, "parent", "associated")
    ]
    empty = client.post("/api/people/search", {}, content_type="application/json", **headers)
    assert empty.status_code == 422
    outsider = api_headers(UserFactory(roles=[Role.OVERSIGHT_OFFICER]))
    refused = client.post(
        "/api/people/search",
        {"name": "Wren Apifamily"},
        content_type="application/json",
        **outsider,
    )
    assert refused.status_code == 404

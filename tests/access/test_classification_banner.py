"""The classification banner on every page, as every role that may open it (issue 20, item 4).

The access matrix's URL walker and world are reused: every web page is fetched (GET, on the
objects inside the actor's team) by each role its rule lets in. The expected marking is the
highest marking of the classified records whose reference the page shows (cases, deployments,
complaints); the world's records are given different markings so that a page taking the wrong
one, or none, is caught. A page must never be marked lower than what it shows, and a page that
states no floor of its own must be marked exactly so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps

from haven.access.models import Classified
from haven.accounts.roles import Clearance
from haven.ui.marking import OFFICIAL, Marking, highest, of, page_marking, parse
from tests.access.test_access_matrix import (
    WEB_POLICY,
    WEB_ROUTES,
    build_world,
    fill,
    owner_of,
    send,
)
from tests.db import rolled_back

BANNER = re.compile(r'data-testid="classification"[^>]*>([^<]+)<')
# Pages that state a floor above what they list, and why (the view passes marking_context).
FLOORS = {
    "cases:list": "its search form collects a protected person's name and date of birth",
    "cases:triage": "its search form collects a protected person's name and date of birth",
    "cases:identity": "the new-identity compartment is TOP SECRET whatever the case",
    **dict.fromkeys(
        (
            "cases:directory",
            "cases:partner",
            "cases:partner_new",
            "cases:partner_edit",
            "cases:partner_retire",
        ),
        "the partner directory holds partners' contact details and what each may be told "
        "about protected people (OFFICIAL-SENSITIVE)",
    ),
    "oversight:": "oversight handles complainants' and officers' personal data throughout",
}
COLLECTED = re.compile(r'<select[^>]*name="classification"[^>]*>(.*?)</select>', re.S)
CHOSEN = re.compile(r'<option value="(\d)" selected>')
# The same choice as GOV.UK radios (the referral form): the one checked.
CHECKED = re.compile(r'name="classification" type="radio" value="(\d)" checked')


def states_a_floor(name: str) -> bool:
    return any(name == key or (key.endswith(":") and name.startswith(key)) for key in FLOORS)


def collected(body: str) -> list[Marking]:
    """The classification a form on the page collects: the one chosen or offered."""
    chosen = [level for block in COLLECTED.findall(body) for level in CHOSEN.findall(block)[:1]]
    return [Marking(int(level)) for level in [*chosen, *CHECKED.findall(body)[:1]]]


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    with django_db_blocker.unblock(), rolled_back():
        world = build_world()
        # Different markings, so that a page showing the wrong record's marking is caught.
        case_model = type(world["inside_case"])
        case_model.objects.filter(pk=world["inside_case"].pk).update(
            classification=Clearance.TOP_SECRET, descriptors="PERSONAL"
        )
        deployment = world["inside_deployment"]
        type(deployment).objects.filter(pk=deployment.pk).update(
            classification=Clearance.OFFICIAL, sensitive=True
        )
        world["markings"] = references()
        yield world


def references() -> dict[str, Marking]:
    """Each classified record's reference, with its marking."""
    found = {}
    for model in apps.get_models():
        if issubclass(model, Classified) and any(
            f.name == "reference" for f in model._meta.concrete_fields
        ):
            for record in model.objects.all():
                found[record.reference] = of(record)
    return found


HINT = re.compile(r'<div id="[^"]*-hint" class="govuk-hint">.*?</div>', re.S)


def shown(body: str, world: dict[str, Any]) -> Marking:
    body = HINT.sub("", body)  # a hint's example reference ("DEP-2026-0001") names nothing
    found = [m for ref, m in world["markings"].items() if ref in body] + collected(body)
    return highest(found) or OFFICIAL


@pytest.mark.parametrize("name", list(WEB_ROUTES))
def test_banner_is_the_highest_marking_the_page_shows(
    name: str, world: dict[str, Any], db: None
) -> None:
    route, owner = WEB_ROUTES[name], owner_of(name)
    rule = WEB_POLICY[name]
    problems = []
    for actor in world["actors"]:
        if not rule(actor, True):
            continue
        path = fill(route, world, actor, True, owner)
        response, body = send(world["web"][actor.user.pk], "GET", path)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        banners = BANNER.findall(body)
        if not banners:
            continue  # a fragment (HTMX) or a page outside the shell
        assert len(set(banners)) == 1, f"{name}: top and foot banners differ: {banners}"
        banner, expected = parse(banners[0]), shown(body, world)
        if banner.rank < expected.rank:
            problems.append(f"{actor.role} {path}: says {banners[0]}, shows {expected.label}")
        elif not states_a_floor(name) and banner.label != expected.label:
            problems.append(f"{actor.role} {path}: says {banners[0]}, shows {expected.label}")
    assert not problems, "\n".join(problems)


def test_every_stated_floor_names_a_page() -> None:
    stale = [
        key
        for key in FLOORS
        if not any(
            states_a_floor(name) for name in WEB_ROUTES if name == key or name.startswith(key)
        )
    ]
    assert not stale, f"floors for pages that no longer exist: {stale}"


# ------------------------------------------------------------------ the mechanism, in small


def test_a_list_takes_the_highest_row_and_an_empty_list_the_floor(db: None) -> None:
    from tests.factories import UserFactory, make_case

    lead = UserFactory(roles=["protection_officer"], clearance=Clearance.TOP_SECRET)
    official = make_case(lead, classification=Clearance.OFFICIAL)
    secret = make_case(lead, name="Sam Second")
    assert page_marking([{"cases": [official]}], None).label == "OFFICIAL-SENSITIVE"
    assert page_marking([{"rows": [(official, "x"), (secret, "y")]}], None).label == "SECRET"
    assert page_marking([{"cases": []}], None) == OFFICIAL
    assert page_marking([{"cases": []}], "SECRET").label == "SECRET"


def test_a_record_counts_as_the_case_it_belongs_to(db: None) -> None:
    from haven.cases import services
    from haven.cases.models import CaseTask
    from tests.factories import UserFactory, make_case

    lead = UserFactory(roles=["protection_officer"], clearance=Clearance.TOP_SECRET)
    case = make_case(lead, classification=Clearance.TOP_SECRET)
    created = services.create_task(lead, case.pk, title="Call", due_on=case.received_at.date())
    task = CaseTask.objects.get(pk=created.pk)  # the case not loaded: one query
    assert page_marking([{"tasks": [task]}], None).label == "TOP SECRET"


def test_a_form_collecting_a_classification_counts_the_one_chosen(db: None) -> None:
    from haven.cases.forms import ReferralForm

    assert page_marking([{"form": ReferralForm()}], None).label == "SECRET"
    chosen = ReferralForm({"classification": str(Clearance.TOP_SECRET)})
    assert page_marking([{"form": chosen}], None).label == "TOP SECRET"


def test_the_banner_tag_reads_the_view_context(rf: Any) -> None:
    from django.template import engines

    request = rf.get("/")
    template = engines["django"].from_string("{% load ui_kit %}{% classification %}")
    html = template.render({"classification": "OFFICIAL"}, request)
    assert ">OFFICIAL<" in html

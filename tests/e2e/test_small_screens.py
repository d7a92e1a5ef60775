"""Tables fit a 375 px phone (issue 20, item 6): on each key page the document is no wider than
the screen, so a wide table scrolls inside its own container and the page never sideways."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from haven.accounts.roles import Clearance, Role
from haven.cases import services as case_services
from tests.e2e.test_casework import choose_purpose_if_asked, sign_in
from tests.equipment.helpers import make_deployment, supervisor, technician
from tests.factories import UserFactory, make_case

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}
WIDTH = "() => document.documentElement.scrollWidth"


def too_wide(page, paths: list[str]) -> list[str]:
    page.set_viewport_size(PHONE)
    wide = []
    for path in paths:
        page.goto(path)
        choose_purpose_if_asked(page)
        width = page.evaluate(WIDTH)
        if width > PHONE["width"]:
            wide.append(f"{path}: {width} px")
    return wide


def test_protection_pages_fit_a_phone(page):
    manager = UserFactory(roles=[Role.PROTECTION_MANAGER], clearance=Clearance.SECRET)
    lead = UserFactory(roles=[Role.PROTECTION_OFFICER], clearance=Clearance.SECRET)
    case = make_case(lead, name="Wendy Widetable", manager=manager)
    for n in range(3):
        case_services.create_task(
            manager, case.pk, title=f"Call the school about a long matter {n}",
            due_on=timezone.localdate() - timedelta(days=n),
        )  # fmt: skip
    sign_in(page, manager)
    paths = ["/", "/cases/", "/cases/triage/", "/cases/my-work/", "/cases/dashboard/"]
    paths += [f"/cases/{case.pk}/", f"/cases/{case.pk}/tasks/", f"/cases/{case.pk}/timeline/"]
    paths += ["/risk/", f"/risk/cases/{case.pk}/", "/notifications/"]
    assert not too_wide(page, paths), too_wide(page, paths)


def test_operations_pages_fit_a_phone(page):
    boss = supervisor(clearance=Clearance.TOP_SECRET)
    deployment = make_deployment(boss, title="Fit a very long named covert alarm")
    technician()
    sign_in(page, boss)
    paths = ["/operations/", "/operations/deployments/", "/operations/calendar/"]
    paths += [f"/operations/deployments/{deployment.pk}/", "/operations/alerts/"]
    assert not too_wide(page, paths), too_wide(page, paths)

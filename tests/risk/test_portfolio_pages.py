"""The risk portfolio's keyset pages: a stable order (next review, then case), "Next" links and
an API cursor, need-to-know on every row, and a later page costing what the first costs."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from haven.access.models import TeamMembership, TeamRole
from haven.accounts import services as account_services
from haven.accounts.models import User
from haven.accounts.roles import Clearance, Role
from haven.cases.models import Case
from haven.risk import config, selectors
from haven.risk.models import RiskAssessment, Status
from haven.risk.selectors import PORTFOLIO_PAGE_SIZE, PortfolioCursor
from tests.factories import UserFactory, force_sign_in

pytestmark = pytest.mark.django_db

CASES = PORTFOLIO_PAGE_SIZE * 2 + 7  # three pages, the last one short


def caseload(manager: User, n: int = CASES, undated: int = 3) -> list[RiskAssessment]:
    """n SECRET cases on the manager's team, each with a current assessment; review dates
    repeat (so the case id breaks ties) and `undated` have none (listed last)."""
    author = UserFactory(roles=[Role.PROTECTION_OFFICER])
    scheme = config.current_scheme()
    today = timezone.localdate()
    cases = [
        Case(reference=f"PF-{i:04d}", subject_name=f"Pat Pagecase {i}", classification=2)
        for i in range(n)
    ]
    Case.objects.bulk_create(cases)
    TeamMembership.objects.bulk_create(
        TeamMembership(object_type="case", object_id=c.pk, user=manager, team_role="manager")
        for c in cases
    )
    rows = []
    for i, case in enumerate(cases):
        score = (i % 5 + 1) * 4
        rows.append(
            RiskAssessment(
                id=uuid.uuid4(), case=case, number=1, status=Status.APPROVED, is_current=True,
                likelihood=i % 5 + 1, impact=4, score=score,
                band=scheme.band_for(score).code, residual_likelihood=1, residual_impact=4,
                residual_score=4, residual_band=scheme.band_for(4).code,
                scheme_code=scheme.code, scheme_version=scheme.version, author=author,
                approved_at=timezone.now(), classification=2,
                next_review_on=None if i < undated else today + timedelta(days=i % 9 - 3),
            )
        )  # fmt: skip
    return RiskAssessment.objects.bulk_create(rows)


def expected_order(assessments: list[RiskAssessment]) -> list[uuid.UUID]:
    dated = sorted(
        (a for a in assessments if a.next_review_on), key=lambda a: (a.next_review_on, a.case_id)
    )
    undated = sorted((a for a in assessments if not a.next_review_on), key=lambda a: a.case_id)
    return [a.case_id for a in dated + undated]


def walk(user: User, **filters: Any) -> list[selectors.KeysetPage]:
    pages, after = [], None
    while True:
        view = selectors.portfolio(user, "supervision", after=after, **filters)
        pages.append(view.page)
        if not view.page.has_next:
            return pages
        after = PortfolioCursor.decode(view.page.next_cursor)  # type: ignore[arg-type]


def test_the_pages_visit_every_case_once_in_a_stable_order():
    manager = UserFactory(roles=[Role.PROTECTION_MANAGER])
    assessments = caseload(manager)
    pages = walk(manager)
    assert [len(p.object_list) for p in pages] == [50, 50, 7]
    assert [(p.number, p.num_pages, p.count) for p in pages] == [
        (1, 3, CASES),
        (2, 3, CASES),
        (3, 3, CASES),
    ]
    seen = [a.case_id for p in pages for a in p.object_list]
    assert seen == expected_order(assessments)
    assert pages[-1].next_cursor is None and not pages[0].has_previous and pages[1].has_previous


def test_a_filtered_list_pages_within_its_filter():
    manager = UserFactory(roles=[Role.PROTECTION_MANAGER])
    assessments = caseload(manager)
    today = timezone.localdate()
    overdue = [a for a in assessments if a.next_review_on and a.next_review_on < today]
    pages = walk(manager, show="overdue")
    assert [a.case_id for p in pages for a in p.object_list] == expected_order(overdue)
    assert pages[0].count == len(overdue)


def test_an_uncleared_or_outside_officer_sees_no_row_on_any_page():
    manager = UserFactory(roles=[Role.PROTECTION_MANAGER])
    assessments = caseload(manager)
    uncleared = UserFactory(roles=[Role.PROTECTION_MANAGER], clearance=Clearance.OFFICIAL)
    TeamMembership.objects.bulk_create(
        TeamMembership(object_type="case", object_id=a.case_id, user=uncleared, team_role="officer")
        for a in assessments
    )
    outsider = UserFactory(roles=[Role.PROTECTION_MANAGER])
    for user in (uncleared, outsider):
        view = selectors.portfolio(user, "supervision")
        assert view.assessed == 0 and view.page.object_list == [] and not view.page.has_next
        # A cursor taken from someone else's list opens nothing either.
        after = PortfolioCursor(None, uuid.UUID(int=0), 50)
        assert selectors.portfolio(user, "supervision", after=after).page.object_list == []
    one = assessments[5]
    TeamMembership.objects.create(
        object_type="case", object_id=one.case_id, user=outsider, team_role=TeamRole.OFFICER
    )
    assert [a.case_id for a in selectors.portfolio(outsider, "supervision").page.object_list] == [
        one.case_id
    ]


def test_a_later_page_costs_the_queries_of_the_first():
    manager = UserFactory(roles=[Role.PROTECTION_MANAGER])
    caseload(manager)
    with CaptureQueriesContext(connection) as first:
        view = selectors.portfolio(manager, "supervision")
    second = PortfolioCursor.decode(view.page.next_cursor)  # type: ignore[arg-type]
    with CaptureQueriesContext(connection) as later:
        selectors.portfolio(manager, "supervision", after=second)
    assert len(later.captured_queries) == len(first.captured_queries)


@pytest.mark.parametrize("text", ["x", "bm90IGEgY3Vyc29y", "MjAyNi0xMy0wMX5hfjA", "A" * 200])
def test_a_cursor_that_is_not_ours_is_refused(text: str):
    with pytest.raises(ValueError, match="first page"):
        PortfolioCursor.decode(text)


def web(user: User) -> Client:
    client = force_sign_in(Client(), user)
    session = client.session
    session["haven_purpose"] = "supervision"
    session.save()
    return client


def test_the_web_page_links_to_the_next_page_and_refuses_a_bad_cursor():
    manager = UserFactory(roles=[Role.PROTECTION_MANAGER])
    assessments = caseload(manager)
    client = web(manager)
    first = client.get("/risk/", {"band": ""})
    assert first.status_code == 200
    page = first.context["view"].page
    assert f"after={page.next_cursor}" in first.content.decode()
    second = client.get("/risk/", {"after": page.next_cursor})
    shown = [a.case_id for a in second.context["view"].page.object_list]
    assert shown == expected_order(assessments)[50:100]
    assert "Page 2 of 3" in second.content.decode()
    bad = client.get("/risk/", {"after": "not-a-cursor"})
    assert bad.status_code == 200 and "There is a problem" in bad.content.decode()
    assert "start again from the first page" in bad.content.decode()
    assert bad.context["view"].page.start == 0


def test_the_api_pages_by_cursor_and_answers_a_bad_one_with_a_problem():
    manager = UserFactory(roles=[Role.PROTECTION_MANAGER])
    assessments = caseload(manager)
    _, secret = account_services.issue_api_token(
        manager, "t", modules=manager.modules, can_write=False
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_X_HAVEN_PURPOSE="supervision")
    seen, cursor = [], ""
    while True:
        body = client.get("/api/risk/portfolio", {"cursor": cursor}).json()
        seen += [uuid.UUID(row["case_id"]) for row in body["results"]]
        if body["next_cursor"] is None:
            break
        cursor = body["next_cursor"]
    assert seen == expected_order(assessments) and body["page"] == 3 and body["pages"] == 3
    bad = client.get("/api/risk/portfolio", {"cursor": "bm90IGEgY3Vyc29y"})
    assert bad.status_code == 422
    assert bad["Content-Type"].startswith("application/problem+json")
    assert "cursor" in json.dumps(bad.json())

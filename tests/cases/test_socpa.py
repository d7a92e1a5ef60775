"""SOCPA 2005 ss.82-84 as the Act words them (issue 21)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from haven.accounts.roles import Role
from haven.cases import config, services
from haven.cases.models import CaseTask, TaskKind, TaskStatus
from tests.cases.test_casework import FACTORS, advance
from tests.factories import UserFactory, force_sign_in

pytestmark = pytest.mark.django_db

TRANSFER = {
    "receiving_provider": "Police Scotland",
    "effective_date": date(2026, 6, 1),
    "receiving_recorded_by": "DI Receiver",
}


@pytest.fixture
def team():
    return {
        "officer": UserFactory(roles=[Role.PROTECTION_OFFICER]),
        "manager": UserFactory(roles=[Role.PROTECTION_MANAGER]),
        "authoriser": UserFactory(roles=[Role.AUTHORISING_OFFICER, Role.IDENTITY_OFFICER]),
    }


@pytest.fixture
def active(team):
    case = services.create_case(
        team["officer"],
        subject_name="Ottilie Fictional",
        subject_dob=date(1990, 5, 17),
        referring_organisation="Midshire Police",
        referring_officer="DC Example",
        threat_summary="Threats from fictional associates",
        urgency="urgent",
        manager=team["manager"],
        authoriser=team["authoriser"],
    )
    advance(team["officer"], case, "assessed")
    advance(team["authoriser"], case, "accepted", factors=FACTORS)
    advance(team["manager"], case, "active")
    case.refresh_from_db()
    return case


@pytest.mark.parametrize("target", ["varied", "cancelled"])
def test_s82_4_factors_are_required_to_vary_or_cancel(team, active, target):
    """s.82(4): "In determining whether to make arrangements ..., or to vary or cancel
    arrangements ..., a protection provider must, in particular, have regard to" (a)-(d)."""
    with pytest.raises(ValidationError) as refused:
        advance(team["manager"], active, target)
    assert set(refused.value.message_dict) == set(FACTORS)
    decision = advance(team["manager"], active, target, factors=FACTORS)
    assert decision.factor_risk == FACTORS["factor_risk"]
    assert "s.82(2)" in decision.citation and "(4)" in decision.citation


def test_after_an_s84_transfer_the_sending_provider_cannot_cancel(team, active):
    """s.84(3): as from the agreed date the powers are "exercisable by the other protection
    provider as if he had made the arrangements"."""
    advance(
        team["manager"],
        active,
        "transferred",
        transfer={**TRANSFER, "receiving_recorded_on": timezone.localdate()},
    )
    with pytest.raises(ValidationError):
        advance(team["manager"], active, "cancelled", factors=FACTORS)


def test_a_provider_is_neither_its_own_joint_provider_nor_its_own_receiver(team, active):
    """s.83 joint arrangements are made by "two or more protection providers"; s.84 transfers
    to "another protection provider"."""
    with pytest.raises(ValidationError, match="another provider"):
        advance(
            team["manager"],
            active,
            "transferred",
            transfer={
                **TRANSFER,
                "receiving_provider": active.provider.upper(),
                "receiving_recorded_on": timezone.localdate(),
            },
        )
    advance(
        team["manager"],
        active,
        "transferred",
        transfer={**TRANSFER, "receiving_recorded_on": timezone.localdate()},
    )
    with pytest.raises(ValidationError, match="provider itself"):
        services.add_joint_provider(
            team["manager"], active.pk, provider="Police Scotland", agreed_on=timezone.localdate()
        )
    joint = services.add_joint_provider(
        team["manager"], active.pk, provider="PSNI", agreed_on=timezone.localdate()
    )
    assert joint.provider == "PSNI"


def test_cancelling_closes_the_open_review(team, active):
    review = CaseTask.objects.get(case=active, kind=TaskKind.REVIEW)
    assert review.status == TaskStatus.OPEN
    services.create_task(
        team["manager"],
        active.pk,
        title="Fictional follow-up",
        due_on=timezone.localdate() + timedelta(days=3),
    )
    advance(team["manager"], active, "cancelled", factors=FACTORS)
    review.refresh_from_db()
    assert review.status == TaskStatus.DONE and "cancelled" in review.response
    other = CaseTask.objects.get(case=active, kind=TaskKind.TASK)
    assert other.status == TaskStatus.OPEN  # only the arrangement's review is moot


def _identity_page(user, case):
    client = force_sign_in(Client(), user)
    session = client.session
    session["haven_purpose"] = "case_management"
    session.save()
    return client.get(f"/cases/{case.pk}/identity/")


def test_identity_warning_cites_the_new_identity_offence_not_s86(team, active):
    """s.86 is the offence about protection arrangements; the new-identity offence is s.88."""
    page = _identity_page(team["authoriser"], active)
    body = page.content.decode()
    assert page.status_code == 200 and "SOCPA 2005 s.88" in body and "s.86" not in body
    assert not config.NEW_IDENTITY_OFFENCE.confirmed  # listed as unconfirmed in the note
    assert _identity_page(team["manager"], active).status_code == 404  # no identity role

"""Builders for oversight tests (synthetic, obviously fictional data)."""

from __future__ import annotations

from datetime import date
from typing import Any

from haven.accounts.models import User
from haven.accounts.roles import Role
from haven.oversight import services
from haven.oversight.models import Complaint, MemberKind, MisconductHearing, PanelMember
from tests.factories import UserFactory


def officer(**kwargs: Any) -> User:
    return UserFactory(roles=[Role.OVERSIGHT_OFFICER], **kwargs)


def head(**kwargs: Any) -> User:
    return UserFactory(roles=[Role.OVERSIGHT_HEAD], **kwargs)


def complaint(user: User, **overrides: Any) -> Complaint:
    data: dict[str, Any] = {
        "received_on": date(2025, 1, 6),
        "category": "individual_behaviours",
        "complainant_name": "Ivor Fictional-Complainant",
        "complainant_contact": "1 Nowhere Lane, Testshire",
        "narrative": "An officer was rude at a fictional front counter.",
    }
    return services.create_complaint(user, **(data | overrides))


def handled_with_outcome(
    user: User, notice_on: date = date(2025, 3, 3), **overrides: Any
) -> Complaint:
    item = complaint(user, **overrides)
    services.act_on_complaint(user, item.pk, "handled")
    return services.record_outcome(user, item.pk, outcome="service_acceptable", notice_on=notice_on)


def member(
    user: User, name: str, kind: str = MemberKind.INDEPENDENT, **overrides: Any
) -> PanelMember:
    data: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "term_start": date(2020, 1, 1),
        "term_end": date(2030, 12, 31),
    }
    return services.add_panel_member(user, **(data | overrides))


def hearing(user: User, referral_date: date, **overrides: Any) -> MisconductHearing:
    data: dict[str, Any] = {
        "officer_reference": "PC 0000 Testforce",
        "force": "Fictional Constabulary",
        "referral_date": referral_date,
    }
    return services.create_hearing(user, **(data | overrides))

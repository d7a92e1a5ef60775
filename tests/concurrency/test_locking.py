"""Optimistic locking: one ConflictError and one ensure_version for every domain."""

from __future__ import annotations

import pytest

from haven.cases import services as case_services
from haven.cases.models import Case
from haven.concurrency.locking import ConflictError, ensure_version
from haven.risk import services as risk_services
from haven.telemetry import services as telemetry_services

from ..factories import UserFactory, make_case


def test_every_domain_raises_the_one_conflict_error() -> None:
    assert case_services.ConflictError is ConflictError
    assert risk_services.ConflictError is ConflictError
    assert telemetry_services.ConflictError is ConflictError


@pytest.mark.django_db
def test_ensure_version_bumps_once_and_refuses_the_stale_version() -> None:
    case = make_case(UserFactory())
    ensure_version(Case, case.pk, case.version, "case", urgency="urgent")
    case.refresh_from_db()
    assert (case.version, case.urgency) == (2, "urgent")
    with pytest.raises(ConflictError, match="This case was changed by someone else"):
        ensure_version(Case, case.pk, 1, "case", urgency="routine")
    case.refresh_from_db()
    assert (case.version, case.urgency) == (2, "urgent")

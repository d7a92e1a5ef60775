"""The catalogue of protective measures: corrected and retired (never deleted) by protection
managers, with the version read and a reason; a retired measure is no longer offered for new
measures and the measures already of that kind keep showing it."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from haven.audit.models import Action, LedgerEntry
from haven.concurrency.locking import ConflictError
from haven.risk import services
from haven.risk.models import MeasureType
from tests.factories import force_sign_in
from tests.risk.helpers import make_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return make_team()


@pytest.fixture
def entry(team):
    return services.add_catalogue_measure(
        team.manager, code="dog-patrol", name="Dog patrl", description="Nightly"
    )


def test_a_manager_corrects_an_entry_with_a_reason_and_it_is_ledgered(team, entry):
    services.correct_catalogue_measure(
        team.manager, "dog-patrol", version=1, reason="typo", name="Dog patrol"
    )
    entry.refresh_from_db()
    assert (entry.name, entry.version) == ("Dog patrol", 2)
    ledgered = LedgerEntry.objects.filter(
        action=Action.ALTERATION, object_type="measure_type", object_id="dog-patrol"
    )
    assert ledgered.count() == 1


def test_stale_version_missing_reason_and_an_officer_are_refused_with_nothing_changed(team, entry):
    services.correct_catalogue_measure(
        team.manager, "dog-patrol", version=1, reason="typo", name="Dog patrol"
    )
    with pytest.raises(ConflictError):
        services.correct_catalogue_measure(
            team.manager, "dog-patrol", version=1, reason="late", name="Dogs"
        )
    with pytest.raises(ValidationError) as no_reason:
        services.retire_catalogue_measure(team.manager, "dog-patrol", version=2, reason="")
    assert "reason" in no_reason.value.message_dict
    with pytest.raises(PermissionDenied):
        services.retire_catalogue_measure(team.officer, "dog-patrol", version=2, reason="x")
    entry.refresh_from_db()
    assert (entry.name, entry.version, entry.active) == ("Dog patrol", 2, True)


def test_a_retired_entry_is_not_offered_but_old_measures_keep_it(client, team, entry):
    measure = services.add_measure(team.officer, team.case.pk, measure_type="dog-patrol")
    services.retire_catalogue_measure(team.manager, "dog-patrol", version=1, reason="ended")
    with pytest.raises(ValidationError):
        services.add_measure(team.officer, team.case.pk, measure_type="dog-patrol")
    measure.refresh_from_db()
    assert measure.measure_type.name == "Dog patrl" and not measure.measure_type.active
    force_sign_in(client, team.officer)
    session = client.session
    session["haven_purpose"] = "case_management"
    session.save()
    form = client.get(f"/risk/cases/{team.case.pk}/measures/new/").content.decode()
    assert 'value="dog-patrol"' not in form


def test_catalogue_page_offers_change_and_retire_to_managers_only(client, team, entry):
    force_sign_in(client, team.manager)
    page = client.get("/risk/catalogue/").content.decode()
    assert "/risk/catalogue/dog-patrol/edit/" in page
    assert "/risk/catalogue/dog-patrol/retire/" in page
    url = "/risk/catalogue/dog-patrol/retire/"
    assert client.post(url, {"version": 1, "reason": ""}).status_code == 400
    assert client.post(url, {"version": 1, "reason": "ended"}).status_code == 302
    assert not MeasureType.objects.get(code="dog-patrol").active
    page = client.get("/risk/catalogue/").content.decode()
    assert "Retired" in page and "/risk/catalogue/dog-patrol/retire/" not in page
    force_sign_in(client, team.officer)
    assert client.get("/risk/catalogue/dog-patrol/edit/").status_code == 403

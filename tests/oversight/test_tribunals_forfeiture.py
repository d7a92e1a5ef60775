from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from haven.oversight import services
from haven.oversight.models import PensionForfeiture, PoliceAppealTribunal
from tests.oversight.helpers import officer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def forfeiture_at_decision(user):
    case = services.create_forfeiture(
        user,
        officer_reference="PC 9999 Fictional",
        offence="Misconduct in public office",
        ground="connected_with_service",
        conviction_on=date(2024, 1, 10),
    )
    services.forfeiture_step(user, case.pk, to="psa_decision", on=date(2024, 2, 1))
    services.forfeiture_step(user, case.pk, to="ho_certificate", on=date(2024, 5, 1))
    return case


@pytest.mark.parametrize("percentage", ["65.01", "100", "0", "-5"])
def test_percentage_outside_0_to_65_refused_and_nothing_saved(percentage):
    user = officer()
    case = forfeiture_at_decision(user)
    with pytest.raises(ValidationError, match="percentage"):
        services.forfeiture_step(
            user, case.pk, to="forfeiture_decision", on=date(2024, 6, 1), percentage=percentage
        )
    stored = PensionForfeiture.objects.get(pk=case.pk)
    assert stored.status == "ho_certificate" and stored.percentage is None


def test_full_forfeiture_path_with_appeal():
    user = officer()
    case = forfeiture_at_decision(user)
    services.forfeiture_step(
        user,
        case.pk,
        to="forfeiture_decision",
        on=date(2024, 6, 1),
        percentage="65",
        permanent=False,
        duration_months=60,
        gmp_preserved=True,
    )
    services.forfeiture_step(user, case.pk, to="appeal", on=date(2024, 6, 20))
    with pytest.raises(ValidationError, match="outcome of the appeal"):
        services.forfeiture_step(user, case.pk, to="implemented", on=date(2024, 9, 1))
    done = services.forfeiture_step(
        user,
        case.pk,
        to="implemented",
        on=date(2024, 9, 1),
        appeal_outcome="Reduced",
        percentage="40",
    )
    assert done.percentage == Decimal("40.00") and done.duration_months == 60


def test_forfeiture_steps_out_of_order_or_backdated_refused():
    user = officer()
    case = services.create_forfeiture(
        user,
        officer_reference="PC 1",
        offence="Fictional",
        ground="treason",
        conviction_on=date(2024, 1, 10),
    )
    with pytest.raises(ValidationError, match="cannot move"):
        services.forfeiture_step(
            user, case.pk, to="forfeiture_decision", on=date(2024, 6, 1), percentage=10
        )
    with pytest.raises(ValidationError, match="before the previous step"):
        services.forfeiture_step(user, case.pk, to="psa_decision", on=date(2023, 6, 1))


def test_tribunal_needs_a_never_police_lay_member_and_sane_dates():
    user = officer()
    with pytest.raises(ValidationError) as refused:
        services.create_tribunal(
            user,
            appellant_reference="PC 2",
            notice_received_on=date(2025, 3, 1),
            lay_member_name="Lay Fictional",
            hearing_on=date(2025, 2, 1),
        )
    assert set(refused.value.message_dict) == {"lay_member_never_police", "hearing_on"}
    assert not PoliceAppealTribunal.objects.exists()
    tribunal = services.create_tribunal(
        user,
        appellant_reference="PC 2",
        notice_received_on=date(2025, 3, 1),
        chair_name="Chair Fictional",
        senior_member_name="ACC Fictional",
        lay_member_name="Lay Fictional",
        lay_member_never_police=True,
        hearing_on=date(2025, 5, 1),
    )
    with pytest.raises(ValidationError, match="before the tribunal sat"):
        services.determine_tribunal(
            user, tribunal.pk, determination="dismissed", determined_on=date(2025, 4, 1)
        )
    done = services.determine_tribunal(
        user, tribunal.pk, determination="dismissed", determined_on=date(2025, 5, 2)
    )
    assert done.determination == "dismissed"


def test_tribunal_determination_needs_every_member():
    user = officer()
    tribunal = services.create_tribunal(
        user, appellant_reference="PC 3", notice_received_on=date(2025, 3, 1)
    )
    with pytest.raises(ValidationError, match="every tribunal member"):
        services.determine_tribunal(
            user, tribunal.pk, determination="allowed", determined_on=date(2025, 5, 2)
        )

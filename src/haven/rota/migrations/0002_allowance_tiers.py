"""Allowance tiers from ../shared/reference/uk-domain-rules.md §6 (configurable afterwards)."""

import datetime
from decimal import Decimal

from django.db import migrations

TIERS = [
    {
        "code": "officer-daily",
        "name": "Police officer on-call allowance",
        "basis": "daily",
        "daily_amount": Decimal("20.00"),
        "citation": "Police Regulations 2003 Annex U para 13: £20 for each day any time is "
        "spent on call [S]",
        "confirmed": False,
        "valid_from": datetime.date(2013, 4, 1),
        "notes": "Introduced in 2013 at £15; check the current figure before release.",
    },
    {
        "code": "staff-sda-12-5",
        "name": "Police staff shift disturbance 12.5%",
        "basis": "percentage",
        "percentage": Decimal("12.50"),
        "citation": "Metropolitan Police staff pay: shift disturbance allowance 12.5% [C]",
        "confirmed": True,
        "valid_from": datetime.date(2020, 1, 1),
        "notes": "The 5%/10%/12.5% staff on-call tiers were not found [U].",
    },
    {
        "code": "staff-sda-15",
        "name": "Police staff shift disturbance 15%",
        "basis": "percentage",
        "percentage": Decimal("15.00"),
        "citation": "Metropolitan Police staff pay: shift disturbance allowance 15% [C]",
        "confirmed": True,
        "valid_from": datetime.date(2020, 1, 1),
        "notes": "",
    },
    {
        "code": "staff-sda-20",
        "name": "Police staff shift disturbance 20%",
        "basis": "percentage",
        "percentage": Decimal("20.00"),
        "citation": "Metropolitan Police staff pay: shift disturbance allowance 20% [C]",
        "confirmed": True,
        "valid_from": datetime.date(2020, 1, 1),
        "notes": "",
    },
]


def add_tiers(apps, schema_editor):
    tier_model = apps.get_model("rota", "AllowanceTier")
    for tier in TIERS:
        tier_model.objects.get_or_create(code=tier["code"], defaults=tier)


class Migration(migrations.Migration):
    dependencies = [("rota", "0001_initial")]

    operations = [migrations.RunPython(add_tiers, migrations.RunPython.noop)]

"""Why a user is reading protected data (DPA 2018 s.62(3): the justification is logged)."""

from __future__ import annotations

from django.db import models


class Purpose(models.TextChoices):
    CASE_MANAGEMENT = "case_management", "Day-to-day case management"
    RISK_REVIEW = "risk_review", "Risk assessment or review"
    SUPERVISION = "supervision", "Management supervision"
    AUTHORISATION = "authorisation", "Authorising a decision"
    DISCLOSURE = "disclosure", "Responding to a disclosure request"
    EMERGENCY = "emergency", "Emergency response"


def parse_purpose(value: object) -> str | None:
    return value if isinstance(value, str) and value in Purpose.values else None

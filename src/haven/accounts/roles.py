"""Roles say what kind of action a user may take; they never grant access to a case."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    PROTECTION_OFFICER = "protection_officer", "Protection officer"
    PROTECTION_MANAGER = "protection_manager", "Protection manager"
    AUTHORISING_OFFICER = "authorising_officer", "Authorising officer"
    IDENTITY_OFFICER = "identity_officer", "Identity officer"
    TECHNICAL_OFFICER = "technical_officer", "Technical officer"
    TECHNICAL_SUPERVISOR = "technical_supervisor", "Technical supervisor"
    OVERSIGHT_OFFICER = "oversight_officer", "Oversight officer"
    OVERSIGHT_HEAD = "oversight_head", "Head of oversight"
    AUDITOR = "auditor", "Auditor"
    ADMINISTRATOR = "administrator", "Administrator"


class Clearance(models.IntegerChoices):
    """Government Security Classifications tiers, ordered so that comparison works."""

    OFFICIAL = 1, "OFFICIAL"
    SECRET = 2, "SECRET"
    TOP_SECRET = 3, "TOP SECRET"


class VettingLevel(models.TextChoices):
    """UK national security vetting levels, lowest first (VETTING_CEILING in models says what
    classification each supports)."""

    BPSS = "bpss", "Baseline Personnel Security Standard (BPSS)"
    CTC = "ctc", "Counter-Terrorist Check (CTC)"
    SC = "sc", "Security Check (SC)"
    DV = "dv", "Developed Vetting (DV)"


class Module(models.TextChoices):
    PROTECTION = "protection", "Protection"
    OPERATIONS = "operations", "Operations"
    OVERSIGHT = "oversight", "Oversight"
    AUDIT = "audit", "Audit"
    ADMINISTRATION = "administration", "Administration"


MODULE_ROLES: dict[str, frozenset[str]] = {
    Module.PROTECTION: frozenset(
        {
            Role.PROTECTION_OFFICER,
            Role.PROTECTION_MANAGER,
            Role.AUTHORISING_OFFICER,
            Role.IDENTITY_OFFICER,
        }
    ),
    Module.OPERATIONS: frozenset({Role.TECHNICAL_OFFICER, Role.TECHNICAL_SUPERVISOR}),
    Module.OVERSIGHT: frozenset({Role.OVERSIGHT_OFFICER, Role.OVERSIGHT_HEAD}),
    Module.AUDIT: frozenset({Role.AUDITOR}),
    Module.ADMINISTRATION: frozenset({Role.ADMINISTRATOR}),
}


def modules_for(roles: list[str]) -> list[str]:
    held = set(roles)
    return [module for module, allowed in MODULE_ROLES.items() if held & allowed]

"""Access rules for rotas, allowances, welfare and the iCal feed (see tests/access/rules.py).

Welfare is kept per staff group: operations staff's under /operations/rota/welfare/ and
/api/welfare, protection staff's under /protection/welfare/ and /api/protection/welfare. For a
protection officer's page "inside" is the matrix's protection officer (their own page, and one
of the protection manager's officers) and "outside" the matrix's technical officer (operations
staff: refused to everyone there, managers included).

Rotas are kept per staff group too: operations rotas under /operations/rota/ and /api/rotas,
protection rotas under /protection/rota/ and /api/protection/rotas. For a rota "inside" is the
matrix's operations rota and "outside" its protection rota, so each mount is tried with its own
group's rota and the other group's (not found there, for everyone). The matrix's swaps are on
the operations rota: at /protection/rota/ and /api/protection/swaps they are not found.

The iCal feed is authenticated by the secret in its URL, not by the caller: "inside" is a live
feed secret (answers for anyone, as a calendar client would fetch it) and "outside" a bogus
one (404 for everyone)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from haven.accounts.roles import Module, Role
from haven.rota import services
from haven.rota.models import Rotation
from haven.rota.staff import PROTECTION
from tests.access.rules import Actor, Rule, module, role
from tests.equipment.helpers import technician
from tests.factories import UserFactory

operations: Rule = module(Module.OPERATIONS)
supervisors: Rule = role(Role.TECHNICAL_SUPERVISOR)
protection: Rule = module(Module.PROTECTION)
protection_managers: Rule = role(Role.PROTECTION_MANAGER)


def own_or_managed_officer(actor: Actor, inside: bool) -> bool:
    """The inside officer themselves, or a protection manager; nobody for operations staff."""
    return inside and (
        actor.role == Role.PROTECTION_OFFICER or actor.user.has_role(Role.PROTECTION_MANAGER)
    )


def own_or_supervised(actor: Actor, inside: bool) -> bool:
    return inside and actor.user.can_use(Module.OPERATIONS)


def swap_party_or_supervisor(actor: Actor, inside: bool) -> bool:
    if not actor.user.can_use(Module.OPERATIONS):
        return False
    return inside or actor.user.has_role(Role.TECHNICAL_SUPERVISOR)


def feed_secret(actor: Actor, inside: bool) -> bool:
    return inside


def nobody(actor: Actor, inside: bool) -> bool:
    return False


def operations_rota(actor: Actor, inside: bool) -> bool:
    """The operations rota (inside), for operations staff."""
    return inside and actor.user.can_use(Module.OPERATIONS)


def operations_rota_supervisors(actor: Actor, inside: bool) -> bool:
    return inside and actor.user.has_role(Role.TECHNICAL_SUPERVISOR)


def protection_rota(actor: Actor, inside: bool) -> bool:
    """The protection rota (outside), for protection staff."""
    return not inside and actor.user.can_use(Module.PROTECTION)


def protection_rota_managers(actor: Actor, inside: bool) -> bool:
    return not inside and actor.user.has_role(Role.PROTECTION_MANAGER)


# Welfare notes: "inside" is the matrix's note about its technical officer (written by its
# technical supervisor), "outside" the note about its protection officer (by its manager).
def operations_note_changer(actor: Actor, inside: bool) -> bool:
    return inside and actor.user.has_role(Role.TECHNICAL_SUPERVISOR)


def operations_note_reader(actor: Actor, inside: bool) -> bool:
    return inside and (
        actor.role == Role.TECHNICAL_OFFICER or actor.user.has_role(Role.TECHNICAL_SUPERVISOR)
    )


def protection_note_changer(actor: Actor, inside: bool) -> bool:
    return not inside and actor.user.has_role(Role.PROTECTION_MANAGER)


def protection_note_reader(actor: Actor, inside: bool) -> bool:
    return not inside and (
        actor.role == Role.PROTECTION_OFFICER or actor.user.has_role(Role.PROTECTION_MANAGER)
    )


WEB_POLICY: dict[str, Rule] = {
    "rota:home": operations,
    "rota:new": supervisors,
    "rota:detail": operations_rota,
    "rota:on_call": operations,
    "rota:allowances": operations,
    "rota:welfare": supervisors,
    "rota:welfare_me": operations,
    "rota:welfare_person": own_or_supervised,
    "rota:feed": operations,
    "rota:swap_decide": swap_party_or_supervisor,
    "welfare:dashboard": protection_managers,
    "welfare:me": protection,
    "welfare:person": own_or_managed_officer,
    "rota:welfare_note_correct": operations_note_changer,
    "rota:welfare_note_withdraw": operations_note_changer,
    "rota:welfare_note_history": operations_note_reader,
    "welfare:note_correct": protection_note_changer,
    "welfare:note_withdraw": protection_note_changer,
    "welfare:note_history": protection_note_reader,
    "protection_rota:home": protection,
    "protection_rota:new": protection_managers,
    "protection_rota:detail": protection_rota,
    "protection_rota:on_call": protection,
    "protection_rota:feed": protection,
    "protection_rota:swap_decide": nobody,
}

API_POLICY: dict[tuple[str, str], Rule] = {
    ("GET", "/api/rotas"): operations,
    ("POST", "/api/rotas"): supervisors,
    ("POST", "/api/rotas/{rota_id}/layers"): operations_rota_supervisors,
    ("GET", "/api/rotas/{rota_id}/schedule"): operations_rota,
    ("GET", "/api/rotas/{rota_id}/gaps"): operations_rota,
    ("GET", "/api/rotas/{rota_id}/on-call"): operations_rota,
    ("GET", "/api/on-call"): operations,
    ("POST", "/api/rotas/{rota_id}/overrides"): operations_rota_supervisors,
    ("POST", "/api/rotas/{rota_id}/swaps"): operations_rota,
    ("GET", "/api/swaps"): operations,
    ("POST", "/api/swaps/{swap_id}/accept"): swap_party_or_supervisor,
    ("POST", "/api/swaps/{swap_id}/decline"): swap_party_or_supervisor,
    ("GET", "/api/rota/allowances"): operations,
    ("GET", "/api/welfare"): supervisors,
    ("GET", "/api/welfare/me"): operations,
    ("POST", "/api/welfare/work"): operations,
    ("PUT", "/api/welfare/terms"): supervisors,
    ("POST", "/api/welfare/leave"): supervisors,
    ("POST", "/api/welfare/compensatory-rest"): supervisors,
    ("POST", "/api/welfare/psych-assessments"): supervisors,
    ("POST", "/api/welfare/notes"): supervisors,
    ("GET", "/api/protection/welfare"): protection_managers,
    ("GET", "/api/protection/welfare/me"): protection,
    ("GET", "/api/protection/welfare/officers/{username}"): own_or_managed_officer,
    ("POST", "/api/protection/welfare/work"): protection,
    ("PUT", "/api/protection/welfare/terms"): protection_managers,
    ("POST", "/api/protection/welfare/leave"): protection_managers,
    ("POST", "/api/protection/welfare/compensatory-rest"): protection_managers,
    ("POST", "/api/protection/welfare/psych-assessments"): protection_managers,
    ("POST", "/api/protection/welfare/notes"): protection_managers,
    ("POST", "/api/welfare/notes/{note_id}/correction"): operations_note_changer,
    ("POST", "/api/welfare/notes/{note_id}/withdrawal"): operations_note_changer,
    ("GET", "/api/welfare/notes/{note_id}/history"): operations_note_reader,
    ("POST", "/api/protection/welfare/notes/{note_id}/correction"): protection_note_changer,
    ("POST", "/api/protection/welfare/notes/{note_id}/withdrawal"): protection_note_changer,
    ("GET", "/api/protection/welfare/notes/{note_id}/history"): protection_note_reader,
    ("POST", "/api/rota/feed"): operations,
    ("DELETE", "/api/rota/feed"): operations,
    ("GET", "/api/rota/feeds/{feed_token}.ics"): feed_secret,
    ("GET", "/api/protection/rotas"): protection,
    ("POST", "/api/protection/rotas"): protection_managers,
    ("POST", "/api/protection/rotas/{rota_id}/layers"): protection_rota_managers,
    ("GET", "/api/protection/rotas/{rota_id}/schedule"): protection_rota,
    ("GET", "/api/protection/rotas/{rota_id}/gaps"): protection_rota,
    ("GET", "/api/protection/rotas/{rota_id}/on-call"): protection_rota,
    ("GET", "/api/protection/on-call"): protection,
    ("POST", "/api/protection/rotas/{rota_id}/overrides"): protection_rota_managers,
    ("POST", "/api/protection/rotas/{rota_id}/swaps"): protection_rota,
    ("GET", "/api/protection/swaps"): protection,
    ("POST", "/api/protection/swaps/{swap_id}/accept"): nobody,
    ("POST", "/api/protection/swaps/{swap_id}/decline"): nobody,
    ("POST", "/api/protection/rota/feed"): protection,
    ("DELETE", "/api/protection/rota/feed"): protection,
}

# The feed's secret is its credential (calendar clients send no token): the matrix's anonymous
# and password-only visitors are judged by the rule, as everyone is.
SESSIONLESS = {("GET", "/api/rota/feeds/{feed_token}.ics")}

PARAMS = {
    "rota_id": lambda world, inside: str(
        (world["matrix_rota"] if inside else world["matrix_protection_rota"]).pk
    ),
    "swap_id": lambda world, inside: str(
        (world["inside_swap"] if inside else world["outside_swap"]).pk
    ),
    "person_id": lambda world, inside: str(
        (world["matrix_technician"] if inside else world["matrix_outsider"]).pk
    ),
    "note_id": lambda world, inside: str(
        (world["matrix_note"] if inside else world["matrix_protection_note"]).pk
    ),
    "feed_token": lambda world, inside: world["matrix_feed"] if inside else "hvc_not-a-feed",
    "officer_id": lambda world, inside: str(
        (world["matrix_officer"] if inside else world["matrix_technician"]).pk
    ),
    "username": lambda world, inside: (
        (world["matrix_officer"] if inside else world["matrix_technician"]).username
    ),
}


def _officer(world: dict[str, Any]) -> str:
    return str(world["matrix_officer"].username)


SAMPLE_PAYLOADS = {
    ("POST", "/api/rotas"): lambda world: {"name": "Matrix rota 2", "starts_on": "2030-01-01"},
    ("POST", "/api/protection/rotas"): lambda world: {
        "name": "Matrix protection rota 2",
        "starts_on": "2030-01-01",
    },
    ("POST", "/api/protection/rotas/{rota_id}/layers"): lambda world: {
        "name": "Primary",  # exists already: validation, not access
        "usernames": [_officer(world)],
        "handover_time": "09:00",
    },
    ("POST", "/api/protection/rotas/{rota_id}/overrides"): lambda world: {
        "username": _officer(world),
        "starts_at": "2001-01-01T09:00:00+00:00",  # before the rota: refused as bad input
        "ends_at": "2001-01-01T10:00:00+00:00",
        "reason": "matrix",
    },
    ("POST", "/api/protection/rotas/{rota_id}/swaps"): lambda world: {
        "counterpart": _officer(world),
        "starts_at": "2001-01-01T09:00:00+00:00",
        "ends_at": "2001-01-01T10:00:00+00:00",
    },
    ("POST", "/api/rotas/{rota_id}/layers"): lambda world: {
        "name": "Primary",  # exists already: validation, not access
        "usernames": [world["matrix_technician"].username],
        "handover_time": "09:00",
    },
    ("POST", "/api/rotas/{rota_id}/overrides"): lambda world: {
        "username": world["matrix_technician"].username,
        "starts_at": "2001-01-01T09:00:00+00:00",  # before the rota: refused as bad input
        "ends_at": "2001-01-01T10:00:00+00:00",
        "reason": "matrix",
    },
    ("POST", "/api/rotas/{rota_id}/swaps"): lambda world: {
        "counterpart": world["matrix_technician"].username,
        "starts_at": "2001-01-01T09:00:00+00:00",
        "ends_at": "2001-01-01T10:00:00+00:00",
    },
    ("POST", "/api/welfare/work"): lambda world: {
        "starts_at": "2030-01-01T10:00:00+00:00",
        "ends_at": "2030-01-01T09:00:00+00:00",  # ends before it starts: 422
    },
    ("PUT", "/api/welfare/terms"): lambda world: {
        "username": world["matrix_technician"].username,
        "weekly_rest_option": "fortnightly",
    },
    ("POST", "/api/welfare/leave"): lambda world: {
        "username": world["matrix_technician"].username,
        "starts_on": "2030-01-02",
        "ends_on": "2030-01-01",  # ends before it starts: 422
    },
    ("POST", "/api/welfare/compensatory-rest"): lambda world: {
        "username": world["matrix_technician"].username,
        "rule_code": "daily_rest",
        "breach_on": "2025-01-01",
        "hours": "3",
        "exception": "reg21",
    },
    ("POST", "/api/welfare/psych-assessments"): lambda world: {
        "username": world["matrix_technician"].username,
        "assessed_on": "2025-01-01",
    },
    ("POST", "/api/welfare/notes"): lambda world: {
        "username": world["matrix_technician"].username,
        "text": "Matrix welfare check-in",
    },
    ("POST", "/api/protection/welfare/work"): lambda world: {
        "starts_at": "2030-01-01T10:00:00+00:00",
        "ends_at": "2030-01-01T09:00:00+00:00",  # ends before it starts: 422
    },
    ("PUT", "/api/protection/welfare/terms"): lambda world: {
        "username": _officer(world),
        "weekly_rest_option": "fortnightly",
    },
    ("POST", "/api/protection/welfare/leave"): lambda world: {
        "username": _officer(world),
        "starts_on": "2030-01-02",
        "ends_on": "2030-01-01",  # ends before it starts: 422
    },
    ("POST", "/api/protection/welfare/compensatory-rest"): lambda world: {
        "username": _officer(world),
        "rule_code": "daily_rest",
        "breach_on": "2025-01-01",
        "hours": "3",
        "exception": "reg21",
    },
    ("POST", "/api/protection/welfare/psych-assessments"): lambda world: {
        "username": _officer(world),
        "assessed_on": "2025-01-01",
    },
    ("POST", "/api/protection/welfare/notes"): lambda world: {
        "username": _officer(world),
        "text": "Matrix welfare check-in",
    },
    # A stale version: refused as a conflict (409), not for access.
    ("POST", "/api/welfare/notes/{note_id}/correction"): lambda world: STALE_CORRECTION,
    ("POST", "/api/welfare/notes/{note_id}/withdrawal"): lambda world: STALE_CORRECTION,
    ("POST", "/api/protection/welfare/notes/{note_id}/correction"): lambda world: STALE_CORRECTION,
    ("POST", "/api/protection/welfare/notes/{note_id}/withdrawal"): lambda world: STALE_CORRECTION,
}


STALE_CORRECTION = {"version": 99, "reason": "matrix", "text": "Matrix corrected note"}


def build(world: dict[str, Any]) -> None:
    actors: list[Actor] = world["actors"]
    boss = next(a.user for a in actors if a.role == Role.TECHNICAL_SUPERVISOR)
    tech = next(a.user for a in actors if a.role == Role.TECHNICAL_OFFICER)
    a, b = technician(), technician()
    today = timezone.localdate()
    rota = services.create_rota(boss, name="Matrix rota", starts_on=today)
    services.add_layer(
        boss,
        rota.pk,
        name="Primary",
        members=[a, tech, b],
        handover_time=dt.time(9),
        rotation=Rotation.DAILY,
    )
    # a is on call on days 0, 3, 6 ...; a asks tech (inside) and b (outside) to cover.
    start = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=3), dt.time(9)))
    inside = services.request_swap(
        a, rota.pk, counterpart=tech, starts_at=start, ends_at=start + dt.timedelta(hours=4)
    )
    outside = services.request_swap(
        a,
        rota.pk,
        counterpart=b,
        starts_at=start + dt.timedelta(hours=5),
        ends_at=start + dt.timedelta(hours=8),
    )
    manager = next(a.user for a in actors if a.role == Role.PROTECTION_MANAGER)
    officer = next(a.user for a in actors if a.role == Role.PROTECTION_OFFICER)
    protection_rota = services.create_rota(
        manager, name="Matrix protection rota", starts_on=today, group=PROTECTION
    )
    services.add_layer(
        manager,
        protection_rota.pk,
        name="Primary",
        members=[officer, UserFactory(roles=[Role.PROTECTION_OFFICER])],
        handover_time=dt.time(9),
        group=PROTECTION,
    )
    note = services.record_welfare_note(boss, person=tech, text="Matrix operations note")
    protection_note = services.record_welfare_note(
        manager, person=officer, text="Matrix protection note", group=PROTECTION
    )
    feed_person = technician()
    _, secret = services.issue_feed_token(feed_person)
    world.update(
        matrix_rota=rota,
        matrix_protection_rota=protection_rota,
        matrix_note=note,
        matrix_protection_note=protection_note,
        inside_swap=inside,
        outside_swap=outside,
        matrix_technician=tech,
        matrix_officer=next(a.user for a in actors if a.role == Role.PROTECTION_OFFICER),
        matrix_outsider=UserFactory(roles=[Role.AUDITOR]),
        matrix_feed=secret,
    )

"""Home's "Start here": each role's ways into its work, so every step is a click from Home.

Links only: the pages behind them are gated where their module is mounted."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from haven.accounts.models import User
from haven.accounts.roles import Role


@dataclass(frozen=True)
class EntryPoint:
    label: str
    url_name: str
    roles: frozenset[str]

    @property
    def url(self) -> str:
        return reverse(self.url_name)


_CASEWORKERS = frozenset(
    {Role.PROTECTION_OFFICER, Role.PROTECTION_MANAGER, Role.AUTHORISING_OFFICER}
)
_INTAKE = frozenset({Role.PROTECTION_OFFICER, Role.PROTECTION_MANAGER})
_PROTECTION = _CASEWORKERS | {Role.IDENTITY_OFFICER}
_OVERSIGHT = frozenset({Role.OVERSIGHT_OFFICER, Role.OVERSIGHT_HEAD})

ENTRY_POINTS: tuple[EntryPoint, ...] = (
    EntryPoint("Record a new referral", "cases:referral_new", _INTAKE),
    EntryPoint("My work: tasks, decisions and assessments", "cases:my_work", _PROTECTION),
    EntryPoint("Triage queue: referrals waiting for assessment", "cases:triage", _CASEWORKERS),
    EntryPoint("Find a case", "cases:list", _PROTECTION),
    EntryPoint("Risk portfolio", "risk:home", _CASEWORKERS),
    EntryPoint(
        "Partner directory: partners and what each may be told", "cases:directory", _PROTECTION
    ),
    EntryPoint("Manager dashboard", "cases:dashboard", frozenset({Role.PROTECTION_MANAGER})),
    EntryPoint(
        "My welfare: hours, rest and psychological assessment due", "welfare:me", _PROTECTION
    ),
    EntryPoint(
        "Officers' welfare: working time, assessments and notes",
        "welfare:dashboard",
        frozenset({Role.PROTECTION_MANAGER}),
    ),
    EntryPoint(
        "On call: who is on call now on the protection rotas",
        "protection_rota:on_call",
        _PROTECTION,
    ),
    EntryPoint(
        "Rotas: protection on-call rotas, layers, overrides and swaps",
        "protection_rota:home",
        frozenset({Role.PROTECTION_MANAGER}),
    ),
    EntryPoint(
        "Open a case outside your team (break-glass)",
        "cases:break_glass",
        frozenset({Role.PROTECTION_MANAGER}),
    ),
    EntryPoint("My complaints and actions", "oversight:my_work", _OVERSIGHT),
    EntryPoint("Caseload per caseworker", "oversight:caseloads", frozenset({Role.OVERSIGHT_HEAD})),
    EntryPoint("Governance: meetings, decisions and actions", "oversight:governance", _OVERSIGHT),
    EntryPoint("Performance by quarter", "oversight:performance", _OVERSIGHT),
)


def entry_points(user: User) -> list[EntryPoint]:
    held = set(user.roles)
    return [point for point in ENTRY_POINTS if held & point.roles]

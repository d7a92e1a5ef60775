"""Who an alert pages, and when: escalation policies (GoAlert's model) resolved to people.

An alert's *level* counts pages: level 0 is step 1 of its policy, paged as the alert is raised;
each level after is the next step, and after the last step the ladder starts again, `repeat`
more times. Where no policy applies, the device's rota chain is used (override holder, layers by
priority), then every technical supervisor, as before policies existed.

Reads only: services.py writes what these functions decide.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from django.db.models import Prefetch, Q

from haven.access import policy as access_policy
from haven.accounts.models import User
from haven.accounts.roles import Role

from .models import (
    CaseTeamRole,
    EscalationPolicy,
    EscalationStep,
    EscalationTarget,
    PolicyAssignment,
    PolicySource,
    TargetKind,
    TelemetryDevice,
)

# The access app's object type for protection cases (operations never imports haven.cases).
CASE_OBJECT = "case"
# Whom a protected person's alarm always tells, besides the people it pages.
CASE_TEAM_TOLD = (CaseTeamRole.LEAD, CaseTeamRole.MANAGER)


@dataclass
class Route:
    users: list[User]
    how: str
    wait: dt.timedelta | None  # until the next level; None: nobody further to page


@dataclass(frozen=True)
class Source:
    """What an alert came from, as far as choosing its policy and case team goes."""

    device: TelemetryDevice
    deployment_id: UUID | None
    case_id: UUID | None


def supervisors() -> list[User]:
    users = User.objects.filter(is_active=True).order_by("username")
    return [u for u in users if u.has_role(Role.TECHNICAL_SUPERVISOR)]


def source_of(device: TelemetryDevice, at: dt.datetime) -> Source:
    """The deployment the device's asset is on at `at`, and the case that deployment protects."""
    if device.asset_id is None:
        return Source(device, None, None)
    from haven.equipment import selectors as equipment_selectors

    deployment = equipment_selectors.live_deployment_for_asset_id(device.asset_id, at)
    if deployment is None:
        return Source(device, None, None)
    return Source(device, deployment.pk, deployment.case_id)


def policy_for(source: Source) -> EscalationPolicy | None:
    """The most specific policy: the device's, its deployment's, its case's, else the default."""
    wanted = Q(source=PolicySource.DEVICE, source_id=source.device.pk)
    if source.deployment_id:
        wanted |= Q(source=PolicySource.DEPLOYMENT, source_id=source.deployment_id)
    if source.case_id:
        wanted |= Q(source=PolicySource.CASE, source_id=source.case_id)
    chosen = {
        a.source: a.policy for a in PolicyAssignment.objects.filter(wanted).select_related("policy")
    }
    for kind in (PolicySource.DEVICE, PolicySource.DEPLOYMENT, PolicySource.CASE):
        if kind in chosen:
            return chosen[kind]
    return EscalationPolicy.objects.filter(is_default=True).first()


def steps_of(policy: EscalationPolicy) -> list[EscalationStep]:
    targets = EscalationTarget.objects.select_related("user")
    return list(policy.steps.prefetch_related(Prefetch("targets", queryset=targets)))


def case_team(case_id: UUID | None, roles: tuple[str, ...]) -> list[User]:
    if case_id is None:
        return []
    members = access_policy.team_of(CASE_OBJECT, case_id).filter(
        team_role__in=roles, user__is_active=True
    )
    return list(dict.fromkeys(member.user for member in members))


def _on_call(rota_name: str, at: dt.datetime) -> User | None:
    from haven.rota import selectors as rota_selectors

    rota = rota_selectors.find_rota(rota_name)
    return rota_selectors.on_call_now(rota, at) if rota is not None else None


def target_users(
    target: EscalationTarget,
    case_id: UUID | None,
    at: dt.datetime,
    everyone: Callable[[], list[User]],
) -> list[User]:
    if target.kind == TargetKind.ON_CALL:
        person = _on_call(target.rota_name, at)
        return [person] if person is not None else []
    if target.kind == TargetKind.USER:
        return [target.user] if target.user is not None and target.user.is_active else []
    if target.kind == TargetKind.CASE_TEAM:
        return case_team(case_id, (target.team_role,))
    return everyone()


def policy_route(
    policy: EscalationPolicy,
    level: int,
    case_id: UUID | None,
    at: dt.datetime,
    everyone: Callable[[], list[User]] = supervisors,
) -> Route:
    steps = steps_of(policy)
    if not steps:
        return Route(everyone(), f"technical supervisors (policy {policy.name} has no steps)", None)
    rounds = policy.repeat + 1
    if level >= len(steps) * rounds:
        return Route([], f"policy {policy.name} exhausted", None)
    step = steps[level % len(steps)]
    users: list[User] = []
    for target in step.targets.all():
        users += target_users(target, case_id, at, everyone)
    users = list(dict.fromkeys(users))
    last = level + 1 >= len(steps) * rounds
    wait = None if last else dt.timedelta(seconds=step.delay_seconds)
    round_note = f", round {level // len(steps) + 1} of {rounds}" if rounds > 1 else ""
    how = f"policy {policy.name}, step {level % len(steps) + 1}{round_note}"
    if not users:  # nobody on call, or the step names nobody: never page nobody
        return Route(everyone(), f"{how}: nobody to page, technical supervisors instead", wait)
    return Route(users, how, wait)


def rota_route(
    device: TelemetryDevice,
    level: int,
    at: dt.datetime,
    escalate_after: dt.timedelta,
    everyone: Callable[[], list[User]] = supervisors,
) -> Route:
    """Without a policy: level 0 is whoever is on call on the device's rota; each escalation goes
    one further down the rota's chain (override holder, then layers by priority); after the
    chain, every technical supervisor. With no rota (or nobody on call) straight to them."""
    chain: list[User] = []
    if device.rota_name:
        from haven.rota import selectors as rota_selectors

        rota = rota_selectors.find_rota(device.rota_name)
        if rota is not None:
            chain = list(dict.fromkeys(rota_selectors.escalation_chain(rota, at)))
    if level < len(chain):
        how = f"on call, rota {device.rota_name}, level {level + 1}"
        return Route([chain[level]], how, escalate_after)
    why = "no rota" if not device.rota_name else "rota exhausted or nobody on call"
    return Route(everyone(), f"technical supervisors ({why})", None)

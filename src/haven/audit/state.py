"""Access-control state that cannot be changed silently (issue 17 item 6).

Every write that changes who may see what puts a structured description of the change under
``details["state"]`` of its ledger entry: team memberships, grants (and break-glass), each
account's roles and clearance, and the classification of cases and deployments.
:func:`unexplained_rows` replays those changes in ledger order and names every live row that
no entry explains: a team membership inserted by SQL, a classification lowered by SQL, a role
changed by SQL. ``haven audit verify --state`` runs it.

Only rows that exist and are not explained are reported: a row deleted without an entry takes
access away, which the ledger cannot vouch for either way (demo resets do that).

Changes are lists of scalars (they stay in clear: ids, codes and times, no free text)::

    ["team", object_type, object_id, user_id, team_role]
    ["team_removed", object_type, object_id, user_id, team_role]
    ["grant", grant_id, object_type, object_id, user_id, kind, expires_at]
    ["account", user_id, "role1+role2", clearance]
    ["classification", object_type, object_id, classification, sensitive]
    ["active", user_id, is_active]                      (absent: active, as accounts are made)
    ["vetting", user_id, level, expires_on or None]     (absent: no vetting recorded)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model

from haven.access.models import AccessGrant, TeamMembership

from . import ledger
from .models import LedgerEntry

STATE_KEY = ledger.STATE_KEY
TEAM, GRANT, ACCOUNT, CLASSIFICATION = "team", "grant", "account", "classification"
# A removal is replayed too: a place put back later by SQL is then unexplained again.
TEAM_REMOVED = "team_removed"
ACTIVE, VETTING = "active", "vetting"
Change = list[Any]


def team_change(object_type: str, object_id: object, user_id: object, team_role: str) -> Change:
    return [TEAM, object_type, str(object_id), int(str(user_id)), str(team_role)]


def team_removal(object_type: str, object_id: object, user_id: object, team_role: str) -> Change:
    return [TEAM_REMOVED, *team_change(object_type, object_id, user_id, team_role)[1:]]


def grant_change(grant: AccessGrant) -> Change:
    return [
        GRANT,
        grant.pk,
        grant.object_type,
        str(grant.object_id),
        grant.user_id,
        str(grant.kind),
        grant.expires_at.isoformat(),
    ]


def account_change(user: Any) -> Change:
    return [ACCOUNT, user.pk, _roles_key(user.roles), int(user.clearance)]


def active_change(user: Any) -> Change:
    """Deactivation and reactivation: an account reactivated by SQL would open again."""
    return [ACTIVE, user.pk, bool(user.is_active)]


def vetting_change(user: Any) -> Change:
    """The vetting that caps a person's effective clearance: raised by SQL, it would open
    classified records again."""
    expires = user.vetting_expires.isoformat() if user.vetting_expires else None
    return [VETTING, user.pk, str(user.vetting_level), expires]


def classification_change(object_type: str, item: Any) -> Change:
    return [CLASSIFICATION, object_type, str(item.pk), int(item.classification), item.sensitive]


def _roles_key(roles: Iterable[str]) -> str:
    return "+".join(sorted(str(role) for role in roles))


class _Replay:
    def __init__(self) -> None:
        self.team: set[tuple[str, str, int, str]] = set()
        self.grants: dict[int, tuple[str, str, int, str, datetime]] = {}
        self.accounts: dict[int, tuple[str, int]] = {}
        self.classifications: dict[tuple[str, str], tuple[int, bool]] = {}
        self.active: dict[int, bool] = {}
        self.vetting: dict[int, tuple[str, str | None]] = {}

    def apply(self, change: Change) -> None:
        kind, *values = change
        if kind == TEAM:
            object_type, object_id, user_id, team_role = values
            self.team.add((object_type, object_id, user_id, team_role))
        elif kind == TEAM_REMOVED:
            object_type, object_id, user_id, team_role = values
            self.team.discard((object_type, object_id, user_id, team_role))
        elif kind == GRANT:
            grant_id, object_type, object_id, user_id, grant_kind, expires_at = values
            expires = datetime.fromisoformat(expires_at)
            self.grants[grant_id] = (object_type, object_id, user_id, grant_kind, expires)
        elif kind == ACCOUNT:
            user_id, roles, clearance = values
            self.accounts[user_id] = (roles, clearance)
        elif kind == CLASSIFICATION:
            object_type, object_id, classification, sensitive = values
            self.classifications[(object_type, object_id)] = (classification, sensitive)
        elif kind == ACTIVE:
            user_id, is_active = values
            self.active[user_id] = is_active
        elif kind == VETTING:
            user_id, level, expires = values
            self.vetting[user_id] = (level, expires)


def _replayed() -> _Replay:
    replay = _Replay()
    entries = (
        LedgerEntry.objects.filter(details__has_key=STATE_KEY)
        .order_by("id")
        .values_list("details", flat=True)
    )
    for details in entries.iterator(chunk_size=2000):
        for change in details.get(STATE_KEY, []):
            replay.apply(change)
    return replay


def _classified_models() -> list[tuple[str, Any]]:
    """(ledger object type, model) of every object whose classification gates access."""
    from django.apps import apps

    return [
        ("case", apps.get_model("cases", "Case")),
        ("deployment", apps.get_model("equipment", "Deployment")),
    ]


def unexplained_rows() -> list[str]:
    """One line per live access-control row that the ledger does not explain."""
    replay = _replayed()
    return [
        *_unexplained_team(replay),
        *_unexplained_grants(replay),
        *_unexplained_accounts(replay),
        *_unexplained_standing(replay),
        *_unexplained_classifications(replay),
    ]


def _unexplained_team(replay: _Replay) -> Iterator[str]:
    rows = TeamMembership.objects.order_by("id").values_list(
        "id", "object_type", "object_id", "user_id", "user__username", "team_role"
    )
    for pk, object_type, object_id, user_id, username, team_role in rows.iterator():
        if (object_type, str(object_id), user_id, team_role) not in replay.team:
            yield (
                f"team membership #{pk}: {username} as {team_role} of {object_type} {object_id} "
                "has no ledger entry"
            )


def _unexplained_grants(replay: _Replay) -> Iterator[str]:
    rows = AccessGrant.objects.order_by("id").values_list(
        "id", "object_type", "object_id", "user_id", "user__username", "kind", "expires_at"
    )
    for pk, object_type, object_id, user_id, username, kind, expires_at in rows.iterator():
        live = (object_type, str(object_id), user_id, kind, expires_at)
        expected = replay.grants.get(pk)
        if expected is None:
            yield (
                f"access grant #{pk}: {kind} for {username} on {object_type} {object_id} "
                "has no ledger entry"
            )
        elif expected != live:
            yield (
                f"access grant #{pk}: {kind} for {username} on {object_type} {object_id} "
                f"until {expires_at.isoformat()} differs from its ledger entry "
                f"({expected[3]} for user #{expected[2]} until {expected[4].isoformat()})"
            )


def _unexplained_accounts(replay: _Replay) -> Iterator[str]:
    rows = (
        get_user_model().objects.order_by("id").values_list("id", "username", "roles", "clearance")
    )
    for pk, username, roles, clearance in rows.iterator():
        live = (_roles_key(roles or []), int(clearance))
        expected = replay.accounts.get(pk)
        if expected is None:
            if roles:  # an account with no roles opens nothing
                yield (
                    f"account {username} (#{pk}): roles {live[0]} and clearance {clearance} "
                    "have no ledger entry"
                )
        elif tuple(expected) != live:
            yield (
                f"account {username} (#{pk}): roles {live[0] or '(none)'} clearance {clearance} "
                f"differ from the ledger (roles {expected[0] or '(none)'} clearance {expected[1]})"
            )


def _unexplained_standing(replay: _Replay) -> Iterator[str]:
    """Active accounts the ledger last saw deactivated, and vetting the ledger did not record."""
    rows = (
        get_user_model()
        .objects.order_by("id")
        .values_list("id", "username", "is_active", "vetting_level", "vetting_expires")
    )
    for pk, username, is_active, level, expires in rows.iterator():
        if is_active and not replay.active.get(pk, True):
            yield f"account {username} (#{pk}): active, but the ledger last deactivated it"
        live = (level or "", expires.isoformat() if expires else None)
        if live != tuple(replay.vetting.get(pk, ("", None))):
            yield (
                f"account {username} (#{pk}): vetting {live[0] or '(none)'} until "
                f"{live[1] or '(no expiry)'} differs from the ledger"
            )


def _unexplained_classifications(replay: _Replay) -> Iterator[str]:
    for object_type, model in _classified_models():
        rows = model.objects.order_by("pk").values_list("pk", "classification", "sensitive")
        for pk, classification, sensitive in rows.iterator():
            expected = replay.classifications.get((object_type, str(pk)))
            if expected is None:
                yield f"{object_type} {pk}: classification {classification} has no ledger entry"
            elif tuple(expected) != (classification, sensitive):
                yield (
                    f"{object_type} {pk}: classification {classification} "
                    f"(sensitive={sensitive}) differs from the ledger ({expected[0]}, "
                    f"sensitive={expected[1]})"
                )

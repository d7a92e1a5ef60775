"""Reads for the administration module: accounts, who can reach what, what a deactivation
removes. Administrators see references and markings of cases and deployments, never their
content (haven.access.labels), so nothing here reads protected data or needs ledgering."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from haven.access import labels
from haven.access.models import AccessGrant, TeamMembership

from .models import AccessReview, HashedSession, Qualification, User, session_key_digest


def accounts() -> QuerySet[User]:
    return User.objects.select_related("line_manager").order_by("username")


def account(user_id: int) -> User | None:
    return accounts().filter(pk=user_id).first()


def qualifications(user: User) -> QuerySet[Qualification]:
    return Qualification.objects.filter(user=user).order_by("kind", "title")


@dataclass(frozen=True)
class Place:
    """A place on a team or a live grant: where the person can reach one object."""

    object_type: str
    object_id: UUID
    label: str
    how: str  # the team role, or "grant until …"


def _labelled(rows: list[tuple[str, UUID, str]]) -> list[Place]:
    by_type: dict[str, list[UUID]] = defaultdict(list)
    for object_type, object_id, _ in rows:
        by_type[object_type].append(object_id)
    names = {kind: labels.labels(kind, ids) for kind, ids in by_type.items()}
    return sorted(
        (Place(kind, object_id, names[kind][object_id], how) for kind, object_id, how in rows),
        key=lambda place: (place.label, place.how),
    )


def team_places(users: list[User]) -> dict[int, list[Place]]:
    rows = TeamMembership.objects.filter(user__in=users).values_list(
        "user_id", "object_type", "object_id", "team_role"
    )
    return _by_user(rows)


def live_grants(users: list[User]) -> dict[int, list[Place]]:
    rows = (
        AccessGrant.objects.filter(user__in=users, expires_at__gt=timezone.now())
        .values_list("user_id", "object_type", "object_id", "kind", "expires_at")
        .order_by("expires_at")
    )
    return _by_user(
        (user_id, kind, object_id, f"{grant.replace('_', '-')} until {until:%Y-%m-%d %H:%M}")
        for user_id, kind, object_id, grant, until in rows
    )


def _by_user(rows) -> dict[int, list[Place]]:  # type: ignore[no-untyped-def]
    grouped: dict[int, list[tuple[str, UUID, str]]] = defaultdict(list)
    for user_id, object_type, object_id, how in rows:
        grouped[user_id].append((object_type, object_id, how))
    return {user_id: _labelled(places) for user_id, places in grouped.items()}


def deactivation_losses(user: User) -> list[Place]:
    """The team places and live grants a deactivation of `user` removes."""
    return [*team_places([user]).get(user.pk, []), *live_grants([user]).get(user.pk, [])]


@dataclass(frozen=True)
class ReviewRow:
    user: User
    places: list[Place] = field(default_factory=list)
    grants: list[Place] = field(default_factory=list)

    def line(self) -> str:
        """The row as one line of text: what the reviewer confirms, and what the digest fixes."""
        user = self.user
        reach = [f"{place.label} {place.how}" for place in (*self.places, *self.grants)]
        return (
            f"{user.username}: roles {'+'.join(sorted(user.roles)) or '-'}; clearance "
            f"{user.clearance_label} (effective {user.effective_clearance_label}); modules "
            f"{'+'.join(user.modules) or '-'}; reach {'; '.join(reach) or '-'}"
        )


@dataclass(frozen=True)
class AccessReviewListing:
    rows: list[ReviewRow]
    digest: str
    last: AccessReview | None
    due: datetime | None

    @property
    def overdue(self) -> bool:
        return self.due is None or self.due <= timezone.now()


def access_review() -> AccessReviewListing:
    """Every active account with what it can reach, the digest of that listing, and when the
    next review is due (settings.ACCESS_REVIEW_DAYS after the last one; now if none)."""
    users = list(accounts().filter(is_active=True))
    places, grants = team_places(users), live_grants(users)
    rows = [ReviewRow(user, places.get(user.pk, []), grants.get(user.pk, [])) for user in users]
    digest = hashlib.sha256(json.dumps([row.line() for row in rows]).encode()).hexdigest()
    last = AccessReview.objects.select_related("confirmed_by").first()
    due = last.confirmed_at + timedelta(days=settings.ACCESS_REVIEW_DAYS) if last else None
    return AccessReviewListing(rows=rows, digest=digest, last=last, due=due)


def access_review_due() -> bool:
    """Whether the periodic access review is due (Home's "Awaiting you" for administrators)."""
    last = AccessReview.objects.only("confirmed_at").first()
    if last is None:
        return True
    return last.confirmed_at + timedelta(days=settings.ACCESS_REVIEW_DAYS) <= timezone.now()


def current_session_handle(session_key: str | None) -> str:
    return session_key_digest(session_key)[:16] if session_key else ""


def signed_in_sessions(user: User) -> QuerySet[HashedSession]:
    """The user's own unexpired signed-in sessions, last seen first (ASVS 3.3.4)."""
    return HashedSession.objects.filter(
        user=user, signed_in_at__isnull=False, expire_date__gt=timezone.now()
    ).order_by("-last_seen_at")

"""Need-to-know decisions. Roles open a module; only teams and grants open an object."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from enum import StrEnum
from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import Aggregate, CharField, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.utils import timezone

from haven.accounts.models import User
from haven.accounts.roles import Role

from .models import AccessGrant, GrantKind, TeamMembership, TeamRole

BREAK_GLASS_MINUTES = 30
MAX_GRANT_DAYS = 30


class Route(StrEnum):
    TEAM = "team"
    GRANT = "grant"
    BREAK_GLASS = "break_glass"


def team_object_ids(user: User, object_type: str) -> QuerySet[TeamMembership, Any]:
    return TeamMembership.objects.filter(user=user, object_type=object_type).values("object_id")


def team_of(object_type: str, object_id: UUID) -> QuerySet[TeamMembership]:
    """The team of one object, with its users, by team role then user name."""
    return (
        TeamMembership.objects.filter(object_type=object_type, object_id=object_id)
        .select_related("user")
        .order_by("team_role", "user__username")
    )


def live_grants(object_type: str, object_id: UUID) -> QuerySet[AccessGrant]:
    """The grants (and break-glass openings) of one object that have not expired, soonest
    ending first."""
    return (
        AccessGrant.objects.filter(
            object_type=object_type, object_id=object_id, expires_at__gt=timezone.now()
        )
        .select_related("user", "granted_by")
        .order_by("expires_at")
    )


def teams_of(object_type: str, object_ids: Iterable[UUID]) -> dict[UUID, list[TeamMembership]]:
    """The teams of many objects in one query, keyed by object id."""
    teams: dict[UUID, list[TeamMembership]] = {object_id: [] for object_id in object_ids}
    rows = (
        TeamMembership.objects.filter(object_type=object_type, object_id__in=list(teams))
        .select_related("user")
        .order_by("team_role", "user__username")
    )
    for row in rows:
        teams[row.object_id].append(row)
    return teams


def granted_object_ids(user: User, object_type: str) -> QuerySet[AccessGrant, Any]:
    return AccessGrant.objects.filter(
        user=user, object_type=object_type, expires_at__gt=timezone.now()
    ).values("object_id")


def reachable_filter(user: User, object_type: str, field: str = "id") -> Q:
    """A filter on an object's `id` (or on `field` holding its id, such as a case_id): the user
    is on its team or holds a live grant.

    One IN over a UNION, not an OR of two INs: PostgreSQL cannot use the primary key index for
    an OR of hashed subplans and scans the whole table (43 ms on 100,000 cases, against 1 ms).
    """
    team_sql, team_params = _team_ids_sql(user, object_type)
    grant_sql, grant_params = _granted_ids_sql(user, object_type)
    reachable = RawSQL(f"{team_sql} UNION {grant_sql}", (*team_params, *grant_params))  # noqa: S611
    return Q(**{f"{field}__in": reachable})


def team_filter(
    user: User, object_type: str, field: str = "id", team_roles: Iterable[str] = ()
) -> Q:
    """A filter on an object's `id` (or `field`): the user is on its team (in one of
    `team_roles`, if given). Grants do not count."""
    team = RawSQL(*_team_ids_sql(user, object_type, team_roles))  # noqa: S611
    return Q(**{f"{field}__in": team})


# The two filters above are every list's and page's need-to-know check, so they are written
# as SQL (the same statements team_object_ids and granted_object_ids make): built from
# querysets, Django made and compiled the subqueries anew for every query that used them,
# about 0.5 ms of CPU each (a case list makes two), against 0.01 ms for these.
_TEAMS = TeamMembership._meta.db_table
_GRANTS = AccessGrant._meta.db_table


def _team_ids_sql(
    user: User, object_type: str, team_roles: Iterable[str] = ()
) -> tuple[str, list[Any]]:
    sql = f"SELECT object_id FROM {_TEAMS} WHERE user_id = %s AND object_type = %s"  # noqa: S608 - as below
    params: list[Any] = [user.pk, object_type]
    roles = list(team_roles)
    if roles:
        sql += f" AND team_role IN ({', '.join(['%s'] * len(roles))})"
        params += roles
    return sql, params


def _granted_ids_sql(user: User, object_type: str) -> tuple[str, list[Any]]:
    # The time as a DateTimeField lookup would send it (SQLite keeps naive UTC text).
    now = AccessGrant._meta.get_field("expires_at").get_db_prep_value(timezone.now(), connection)
    sql = (
        f"SELECT object_id FROM {_GRANTS}"  # noqa: S608 - names from the model, values as params
        " WHERE user_id = %s AND object_type = %s AND expires_at > %s"
    )
    return sql, [user.pk, object_type, now]


class _Joined(Aggregate):
    """Text values joined by commas: STRING_AGG on PostgreSQL, GROUP_CONCAT on SQLite."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, ',')"
    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra)


def team_places(user: User, object_type: str, field: str = "pk") -> Subquery:
    """An annotation: the user's places on the object's team, as text for places_from() (None
    off the team). Folds team_roles() into the query that finds the object, so a page that asks
    several questions of the user's places (route, compartment, management, corrections) reads
    them with the object instead of once per question."""
    return Subquery(
        TeamMembership.objects.filter(user=user, object_type=object_type, object_id=OuterRef(field))
        .order_by()
        .values("object_id")
        .annotate(places=_Joined("team_role"))
        .values("places")
    )


def places_from(joined: str | None) -> frozenset[str]:
    """The team roles read by a team_places() annotation."""
    return frozenset(joined.split(",")) if joined else frozenset()


def route_to(user: User, object_type: str, object_id: UUID) -> Route | None:
    if TeamMembership.objects.filter(
        user=user, object_type=object_type, object_id=object_id
    ).exists():
        return Route.TEAM
    grant = (
        AccessGrant.objects.filter(
            user=user, object_type=object_type, object_id=object_id, expires_at__gt=timezone.now()
        )
        .order_by("kind")
        .first()
    )
    if grant is None:
        return None
    return Route.BREAK_GLASS if grant.kind == GrantKind.BREAK_GLASS else Route.GRANT


def team_roles(user: User, object_type: str, object_id: UUID) -> set[str]:
    return set(
        TeamMembership.objects.filter(
            user=user, object_type=object_type, object_id=object_id
        ).values_list("team_role", flat=True)
    )


def may_read_identity(
    user: User, object_type: str, object_id: UUID, places: Collection[str] | None = None
) -> bool:
    """The new-identity compartment: team members holding the identity role, nobody else.
    `places`: the user's team roles on the object if already read (else they are looked up)."""
    return user.has_role(Role.IDENTITY_OFFICER) and bool(
        team_roles(user, object_type, object_id) if places is None else places
    )


def may_grant(
    user: User, object_type: str, object_id: UUID, places: Collection[str] | None = None
) -> bool:
    return user.has_role(Role.PROTECTION_MANAGER) and TeamRole.MANAGER in (
        team_roles(user, object_type, object_id) if places is None else places
    )


def team_managers(object_type: str, object_id: UUID) -> QuerySet[User]:
    return User.objects.filter(
        pk__in=TeamMembership.objects.filter(
            object_type=object_type, object_id=object_id, team_role=TeamRole.MANAGER
        ).values("user_id")
    )

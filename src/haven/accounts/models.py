from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from .roles import Clearance, Module, Role, modules_for


def validate_roles(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError("Roles must be a list of role codes.")
    unknown = set(value) - set(Role.values)
    if unknown:
        raise ValidationError(f"Unknown role: {', '.join(sorted(unknown))}.")


class User(AbstractUser):
    roles = models.JSONField(default=list, blank=True, validators=[validate_roles])
    clearance = models.PositiveSmallIntegerField(
        choices=Clearance.choices, default=Clearance.OFFICIAL
    )
    failed_logins = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    # Bumped by "sign out everywhere": sessions carrying an older epoch are refused.
    session_epoch = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def has_role(self, *roles: str) -> bool:
        return bool(set(self.roles) & set(roles))

    def can_use(self, module: str) -> bool:
        return module in modules_for(self.roles)

    @property
    def modules(self) -> list[str]:
        return modules_for(self.roles)

    @property
    def role_labels(self) -> list[str]:
        return [Role(code).label for code in self.roles if code in Role.values]

    @property
    def clearance_label(self) -> str:
        return Clearance(self.clearance).label

    def is_locked(self, now: object = None) -> bool:
        now = now or timezone.now()
        return self.locked_until is not None and self.locked_until > now  # type: ignore[operator]


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def usable(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the secret is shown once."""

    PREFIX = "hvn_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    key_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str, days: int) -> tuple[ApiToken, str]:
        secret = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            name=name,
            key_hash=cls.hash_secret(secret),
            hint=secret[:10],
            expires_at=timezone.now() + timedelta(days=days),
        )
        return token, secret

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


__all__ = ["ApiToken", "Clearance", "Module", "Role", "User"]

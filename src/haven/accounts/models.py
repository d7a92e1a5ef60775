from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from haven.vault.fields import EncryptedJSONField, EncryptedTextField

from .roles import Clearance, Module, Role, VettingLevel, modules_for


def validate_roles(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError("Roles must be a list of role codes.")
    unknown = set(value) - set(Role.values)
    if unknown:
        raise ValidationError(f"Unknown role: {', '.join(sorted(unknown))}.")


class User(AbstractUser):  # type: ignore[django-manager-missing]
    roles = models.JSONField(default=list, blank=True, validators=[validate_roles])
    clearance = models.PositiveSmallIntegerField(
        choices=Clearance.choices, default=Clearance.OFFICIAL
    )
    failed_logins = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    # ASVS 2.3.1: a first password made by Haven (account creation) stops working at this
    # moment; choosing a password (change or reset code) clears it.
    first_password_expires = models.DateTimeField(null=True, blank=True)
    # Bumped by "sign out everywhere": sessions carrying an older epoch are refused.
    session_epoch = models.PositiveIntegerField(default=0)
    # National security vetting held (blank: none recorded in Haven) and when it lapses.
    vetting_level = models.CharField(max_length=8, choices=VettingLevel.choices, blank=True)
    vetting_expires = models.DateField(null=True, blank=True)
    # Told, with the person, when their vetting, designations or training are about to lapse.
    line_manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )

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

    @property
    def vetting_lapsed(self) -> bool:
        """A recorded vetting whose expiry date has passed."""
        return bool(
            self.vetting_level
            and self.vetting_expires is not None
            and self.vetting_expires < timezone.localdate()
        )

    @property
    def effective_clearance(self) -> int:
        """The clearance need-to-know checks: the granted clearance, capped by the vetting
        recorded for the person (OFFICIAL once that vetting has lapsed). An account with no
        vetting recorded keeps its granted clearance: accounts made before vetting was kept
        in Haven, or by `haven createuser`; the account page says so."""
        if not self.vetting_level:
            return int(self.clearance)
        ceiling = Clearance.OFFICIAL if self.vetting_lapsed else vetting_ceiling(self.vetting_level)
        return min(int(self.clearance), int(ceiling))

    @property
    def effective_clearance_label(self) -> str:
        return Clearance(self.effective_clearance).label

    @property
    def clearance_limited(self) -> bool:
        return self.effective_clearance < self.clearance

    def is_locked(self, now: object = None) -> bool:
        now = now or timezone.now()
        return self.locked_until is not None and self.locked_until > now  # type: ignore[operator]


def vetting_ceiling(level: str) -> int:
    """The highest classification a vetting level supports (blank: no vetting, OFFICIAL)."""
    return int(VETTING_CEILING.get(level, Clearance.OFFICIAL))


VETTING_CEILING: dict[str, Clearance] = {
    VettingLevel.BPSS: Clearance.OFFICIAL,
    VettingLevel.CTC: Clearance.OFFICIAL,
    VettingLevel.SC: Clearance.SECRET,
    VettingLevel.DV: Clearance.TOP_SECRET,
}


class QualificationKind(models.TextChoices):
    DESIGNATION = "designation", "Designation"
    TRAINING = "training", "Training"


class Qualification(models.Model):
    """A designation (e.g. NCA designation with the powers of a constable) or a mandatory
    training course a person holds, and when it lapses (none: it does not)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="qualifications")
    kind = models.CharField(max_length=12, choices=QualificationKind.choices)
    title = models.CharField(max_length=120)
    held_from = models.DateField()
    expires_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "title"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

    @property
    def lapsed(self) -> bool:
        return self.expires_on is not None and self.expires_on < timezone.localdate()


class ExpiryNotice(models.Model):
    """An expiry warning already sent (`item`: "vetting" or "qualification:<id>"), so the
    daily job sends each warning for one expiry date once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    item = models.CharField(max_length=40)
    expires_on = models.DateField()
    days_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "item", "expires_on", "days_before"], name="unique_expiry_notice"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item} of #{self.user_id}: {self.days_before} days before {self.expires_on}"


class AccessReview(models.Model):
    """A periodic review of who can reach what, confirmed by a reviewer; `digest` fixes the
    listing they confirmed (its lines are in the ledger entry)."""

    confirmed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(default=timezone.now)
    accounts = models.PositiveIntegerField()
    digest = models.CharField(max_length=64)

    class Meta:
        ordering = ["-confirmed_at"]

    def __str__(self) -> str:
        return f"Access review of {self.accounts} accounts, {self.confirmed_at:%Y-%m-%d}"


def random_device_id() -> int:
    return secrets.randbits(62) + 1


class AuthenticatorDevice(TimestampMixin, ThrottlingMixin, Device):  # type: ignore[misc]
    """A TOTP authenticator app whose seed the vault encrypts.

    django-otp's TOTPDevice keeps its seed in clear, so anyone with a database dump could
    compute codes. This device has TOTPDevice's columns and borrows its behaviour (code check,
    replay and drift handling, throttling, provisioning URL); only the seed column differs: it
    is vault ciphertext bound to this row, so the primary key is set before saving: a random
    integer, as django-otp's persistent ids (kept in the session) need an integer."""

    id: models.BigIntegerField[int, int] = models.BigIntegerField(
        primary_key=True, default=random_device_id, editable=False
    )
    key = EncryptedTextField(default=default_key)
    step: models.PositiveSmallIntegerField[int, int] = models.PositiveSmallIntegerField(default=30)
    t0: models.BigIntegerField[int, int] = models.BigIntegerField(default=0)
    digits: models.PositiveSmallIntegerField[int, int] = models.PositiveSmallIntegerField(
        choices=[(6, 6), (8, 8)], default=6
    )
    tolerance: models.PositiveSmallIntegerField[int, int] = models.PositiveSmallIntegerField(
        default=1
    )
    drift: models.SmallIntegerField[int, int] = models.SmallIntegerField(default=0)
    last_t: models.BigIntegerField[int, int] = models.BigIntegerField(default=-1)

    bin_key = TOTPDevice.bin_key
    verify_token = TOTPDevice.verify_token
    get_throttle_factor = TOTPDevice.get_throttle_factor
    config_url = TOTPDevice.config_url
    _read_str_from_settings = TOTPDevice._read_str_from_settings

    class Meta(Device.Meta):  # type: ignore[misc]
        verbose_name = "authenticator app"


def factor_secret_digest(purpose: str, user_id: int, secret: str) -> str:
    """The only stored form of a one-time secret (a recovery code, a password reset code): a
    keyed hash (HMAC-SHA256 under a key derived from SECRET_KEY) bound to its account. The
    secrets carry 60+ random bits, so a slow hash adds nothing, and a dump without SECRET_KEY
    cannot even test guesses."""
    from django.utils.crypto import salted_hmac

    normalised = "".join(secret.split()).replace("-", "").upper()
    return salted_hmac(
        f"haven.accounts.{purpose}",
        f"{user_id}\0{normalised}",
        secret=settings.SECRET_KEY,
        algorithm="sha256",
    ).hexdigest()


class RecoveryCodeDevice(TimestampMixin, Device):  # type: ignore[misc]
    """The set of single-use recovery codes of one account, as a django-otp device so that a
    sign-in completed with a code is a verified session like any other (and ends when an
    administrator resets the account's factors and this device goes)."""

    class Meta(Device.Meta):  # type: ignore[misc]
        verbose_name = "recovery codes"

    def unused_count(self) -> int:
        return int(RecoveryCode.objects.filter(device=self, used_at__isnull=True).count())

    def verify_token(self, token: str) -> bool:
        """Use up the code `token` if it is one of this set's unused codes."""
        digest = factor_secret_digest("recovery", self.user_id, str(token))
        used = RecoveryCode.objects.filter(device=self, digest=digest, used_at__isnull=True).update(
            used_at=timezone.now()
        )
        return bool(used == 1)


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64, unique=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"recovery code {self.pk} ({'used' if self.used_at else 'unused'})"


class PasswordReset(models.Model):
    """A one-time, short-lived password reset an administrator issued. The code went only to
    the account's verified contact methods; the table keeps its keyed hash."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_resets")
    digest = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="password_resets_issued"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"password reset for {self.user_id} until {self.expires_at:%H:%M}"


def session_key_digest(session_key: str) -> str:
    """The only form of a session key the database holds: a keyed hash (HMAC-SHA256 under a key
    derived from SECRET_KEY), so a dump of the table yields nothing to put in a cookie."""
    from django.utils.crypto import salted_hmac

    return salted_hmac(
        "haven.accounts.session", session_key, secret=settings.SECRET_KEY, algorithm="sha256"
    ).hexdigest()


class HashedSession(AbstractBaseSession):
    """A session row keyed by `session_key_digest` of the cookie value (see sessions.py)."""

    session_key = models.CharField(max_length=64, primary_key=True)
    # Filled by the store from the session's own data on every save (see sessions.py), so the
    # holder can list their sessions and end one (ASVS 3.3.4) without decoding every row.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    device = models.CharField(max_length=120, blank=True)
    signed_in_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "accounts_session"

    @property
    def handle(self) -> str:
        """How the holder names one of their sessions: a prefix of the stored hash (never
        the cookie's key, which the database does not have)."""
        return self.session_key[:16]

    @classmethod
    def get_session_store_class(cls):  # type: ignore[no-untyped-def]
        from .sessions import SessionStore

        return SessionStore


class KeptForm(models.Model):
    """What someone had typed into a form when their session ended under them (idle timeout or
    absolute lifetime): kept for a short time so that, once the same account has signed in
    again, the page comes back filled in (accounts/keptforms.py). The page and the fields are
    sealed by the vault, bound to this row and to the account; the sign-in link carries only a
    random handle, of which the table holds a keyed hash."""

    vault_owner = "user"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    handle_digest = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # {"page": "/path/?query", "fields": {name: [values]}}
    sealed = EncryptedJSONField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"form kept for {self.user_id} until {self.expires_at:%H:%M}"


class SecurityCounter(models.Model):
    """Events counted in a time window: failed sign-ins per source address and per (address,
    user name) pair, refusals per (user, object). Keys are keyed hashes: a typed user name
    (perhaps a password typed in the wrong box) never reaches the database."""

    key = models.CharField(max_length=64, primary_key=True)
    failures = models.PositiveIntegerField(default=0)
    window_ends = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key[:8]}…: {self.failures} until {self.window_ends:%H:%M}"


class SecretToken(models.Model):
    """A revocable secret shown once to its holder: only its SHA-256 is stored, with the first
    characters as a hint to tell tokens apart."""

    key_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def usable(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ApiToken(SecretToken):
    """A personal API token."""

    PREFIX = "hvn_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Scope: the modules the token opens (none for tokens from before scopes: only the
    # endpoints any token may use), and whether it may change anything or only read.
    modules = models.JSONField(default=list, blank=True)
    can_write = models.BooleanField(default=False)

    objects = ApiTokenQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def issue(
        cls, user: User, name: str, days: int, *, modules: list[str], can_write: bool
    ) -> tuple[ApiToken, str]:
        secret = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            name=name,
            modules=modules,
            can_write=can_write,
            key_hash=cls.hash_secret(secret),
            hint=secret[:10],
            expires_at=timezone.now() + timedelta(days=days),
        )
        return token, secret

    def opens(self, module: str) -> bool:
        return module in self.modules

    @property
    def scope_label(self) -> str:
        names = [Module(code).label for code in self.modules if code in Module.values]
        access = "read and write" if self.can_write else "read only"
        return f"{', '.join(names) or 'No module'}: {access}"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


__all__ = [
    "AccessReview",
    "ApiToken",
    "ExpiryNotice",
    "Qualification",
    "QualificationKind",
    "VettingLevel",
    "AuthenticatorDevice",
    "Clearance",
    "HashedSession",
    "KeptForm",
    "Module",
    "PasswordReset",
    "RecoveryCode",
    "RecoveryCodeDevice",
    "Role",
    "SecurityCounter",
    "User",
]

"""Haven settings, read from the environment.

HAVEN_DATABASE_URL  database (default: SQLite in HAVEN_DATA_DIR)
HAVEN_SECRET_KEY    Django secret; the built-in development value is refused unless DEBUG is on
HAVEN_DATA_DIR      keys, blobs and the SQLite file (default: ./var)
HAVEN_DEBUG         1 for development
HAVEN_DEMO          1 enables demo-only commands such as `haven otp`
HAVEN_KEK           vault key-encryption key (default: the file HAVEN_DATA_DIR/keys/kek.key)
HAVEN_BLIND_INDEX_KEY  blind-index HMAC key (default: HAVEN_DATA_DIR/keys/blind-index.key)
HAVEN_BLIND_INDEX_BITS blind-index length in bits (default 32)
HAVEN_ALLOWED_HOSTS host names served (comma-separated)
HAVEN_CSRF_TRUSTED_ORIGINS extra https:// origins allowed to post forms (comma-separated)
HAVEN_INSECURE_HTTP 1 to serve without TLS (cookies not marked Secure, no HSTS)
HAVEN_CLIENT_ADDRESS_HEADER header the proxy puts the client's address in (e.g. X-Forwarded-For;
                    default: none, the connection's address)
HAVEN_SESSION_ABSOLUTE_HOURS a session ends this long after sign-in, active or not (default 12)
HAVEN_API_TOKEN_RATE requests one API token may make (default 600/m)
HAVEN_WEBAUTHN_RP_ID passkey relying party id (default: the host name each request came to)
HAVEN_MAP_TILE_URL  map tiles, e.g. https://tiles.example.police.uk/{z}/{x}/{y}.png (default: none,
                    the map draws positions on a plain grid); HAVEN_MAP_TILE_ATTRIBUTION its credit
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

BASE_DIR = Path(__file__).resolve().parent
DEV_SECRET_KEY = "haven-development-only-secret-key-do-not-use-in-production"


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_flag("HAVEN_DEBUG")
DEMO_MODE = env_flag("HAVEN_DEMO")
SECRET_KEY = os.environ.get("HAVEN_SECRET_KEY", DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY and not env_flag("HAVEN_TESTING"):
    raise ImproperlyConfigured(
        "HAVEN_SECRET_KEY is not set: refusing to run with DEBUG off and the development secret"
    )

DATA_DIR = Path(os.environ.get("HAVEN_DATA_DIR", Path.cwd() / "var")).resolve()
KEY_DIR = DATA_DIR / "keys"
BLOB_DIR = DATA_DIR / "blobs"

# Ledger verification (haven.audit): the public keys `haven audit verify` trusts, pinned here
# and never taken from whatever key file is in KEY_DIR.  HAVEN_LEDGER_TRUSTED_KEYS holds PEM
# text (one or more public keys) or paths to PEM files separated by commas.
LEDGER_TRUSTED_KEYS = [
    item.strip()
    for item in (
        [os.environ.get("HAVEN_LEDGER_TRUSTED_KEYS", "")]
        if "-----BEGIN" in os.environ.get("HAVEN_LEDGER_TRUSTED_KEYS", "")
        else os.environ.get("HAVEN_LEDGER_TRUSTED_KEYS", "").split(",")
    )
    if item.strip()
]
# Entries newer than the latest checkpoint for longer than this (seconds) fail verification:
# a deleted tail of checkpoints, or a checkpoint scheduler that stopped.
LEDGER_MAX_UNSIGNED_AGE = float(os.environ.get("HAVEN_LEDGER_MAX_UNSIGNED_AGE", "300"))
# The log's name: the origin line of every checkpoint (a C2SP signed note) and its key name.
# Use a name you control, e.g. "haven.example.gov.uk/ledger"; ".invalid" marks the default.
LEDGER_ORIGIN = os.environ.get("HAVEN_LEDGER_ORIGIN", "haven.invalid/ledger").strip()
# Witnesses that cosign checkpoints (haven-witness or any C2SP tlog-witness): entries separated
# by commas or newlines, each "name url vkey" (vkey as `haven-witness public-key` prints it).
LEDGER_WITNESSES = [
    " ".join(entry.split())
    for entry in os.environ.get("HAVEN_LEDGER_WITNESSES", "").replace("\n", ",").split(",")
    if entry.strip()
]
# How many witnesses must cosign a checkpoint for it to count as witnessed (default: one, when
# any witness is configured; the local witness counts).
LEDGER_WITNESS_QUORUM = (
    int(os.environ["HAVEN_LEDGER_WITNESS_QUORUM"])
    if os.environ.get("HAVEN_LEDGER_WITNESS_QUORUM", "").strip()
    else None
)
# `haven up` runs a haven-witness on this machine and Haven uses it (demo, `make run`): it
# shows the protocol working; real witnesses run elsewhere, under someone else's control.
LOCAL_WITNESS = env_flag("HAVEN_LOCAL_WITNESS")
# HAVEN_DEMO_MAILBOX: `haven up` also runs `haven mailbox` on HAVEN_EMAIL_PORT (make run).
DEMO_MAILBOX = env_flag("HAVEN_DEMO_MAILBOX")
LOCAL_WITNESS_PORT = int(os.environ.get("HAVEN_LOCAL_WITNESS_PORT", "8009"))

# Vault (haven.vault). The keys themselves come from HAVEN_KEK / HAVEN_BLIND_INDEX_KEY or from
# files in KEY_DIR (`haven keys init`); see haven/vault/keyring.py.
# Blind-index width: HAVEN_BLIND_INDEX_BITS if set, else recommended_bits() of the rows a
# column is expected to hold (several rows share each value, so the index is no fingerprint).
HAVEN_BLIND_INDEX_BITS = int(os.environ.get("HAVEN_BLIND_INDEX_BITS", "0")) or None
HAVEN_BLIND_INDEX_EXPECTED_ROWS = int(os.environ.get("HAVEN_BLIND_INDEX_EXPECTED_ROWS", "100000"))
# How long a process trusts its cached data keys before re-reading them (picks up rotations).
HAVEN_VAULT_KEY_REFRESH_SECONDS = float(os.environ.get("HAVEN_VAULT_KEY_REFRESH_SECONDS", "60"))

ALLOWED_HOSTS = [
    h for h in os.environ.get("HAVEN_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]
# Only needed when a form is posted from another origin than the one the proxy forwards.
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("HAVEN_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",  # WhiteNoise serves static files in development too
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp_webauthn",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "haven.accounts",
    "haven.access",
    "haven.vault",
    "haven.audit",
    "haven.concurrency",
    "haven.runtime",
    "haven.notifications",
    "haven.cases",
    "haven.oversight",
    "haven.equipment",
    "haven.rota",
    "haven.risk",
    "haven.telemetry",
    "haven.administration",
    "haven.authorisations",
    "haven.ui",
    "haven.web",
    "haven.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "haven.web.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "haven.accounts.middleware.SessionGuardMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "haven.urls"
WSGI_APPLICATION = "haven.wsgi.application"
ASGI_APPLICATION = "haven.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "haven.web.context_processors.shell",
                "haven.notifications.context_processors.unread",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("HAVEN_DATABASE_URL", f"sqlite:///{DATA_DIR / 'haven.sqlite3'}"),
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's planner prices a page read out of order at 4 (random_page_cost), for
    # spinning disks. Haven's tables are read from memory or SSD: at 4, the case list of a
    # manager with 1,000 of 100,000 cases read every case (60 ms; 4 ms by index at 1.1). Set for
    # Haven's own connections, before any options in HAVEN_DATABASE_URL, which still win.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = " ".join(
        filter(None, ["-c random_page_cost=1.1", _options.get("options")])
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
# The first hashes new passwords (Argon2id with a pepper, ASVS 2.4.5); the plain Argon2 hasher
# verifies hashes made before the pepper, which are re-hashed at their owner's next sign-in.
PASSWORD_HASHERS = [
    "haven.accounts.hashers.PepperedArgon2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {
        "NAME": "haven.accounts.validators.MaximumLengthValidator",
        "OPTIONS": {"max_length": 128},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "haven.accounts.validators.StrengthValidator"},
]

# Security policy (see DESIGN.md "Authentication").
# Failed passwords are counted per (source address, user name) pair, per address and per account,
# each in a window of LOGIN_LOCKOUT_MINUTES; failed codes (after a correct password) per account.
LOGIN_FAILURE_LIMIT = int(os.environ.get("HAVEN_LOGIN_FAILURE_LIMIT", "5"))
LOGIN_ADDRESS_FAILURE_LIMIT = int(os.environ.get("HAVEN_LOGIN_ADDRESS_FAILURE_LIMIT", "20"))
LOGIN_ACCOUNT_FAILURE_LIMIT = int(os.environ.get("HAVEN_LOGIN_ACCOUNT_FAILURE_LIMIT", "20"))
LOGIN_LOCKOUT_MINUTES = int(os.environ.get("HAVEN_LOGIN_LOCKOUT_MINUTES", "15"))
CLIENT_ADDRESS_HEADER = os.environ.get("HAVEN_CLIENT_ADDRESS_HEADER", "").strip()
SESSION_IDLE_SECONDS = 15 * 60
# However active, a session ends this long after sign-in (ASVS 3.3.2).
SESSION_ABSOLUTE_SECONDS = int(float(os.environ.get("HAVEN_SESSION_ABSOLUTE_HOURS", "12")) * 3600)
# The timeout warning opens this long before the idle timeout (static/haven/timeout.js).
SESSION_WARNING_SECONDS = 120
SESSION_ENGINE = "haven.accounts.sessions"
# Activity is stamped at this resolution, so a burst of requests writes the session once, not
# once each; the idle timeout can then fall up to this much early, never late.
SESSION_ACTIVITY_RESOLUTION_SECONDS = 30
SESSION_COOKIE_AGE = SESSION_IDLE_SECONDS + SESSION_ACTIVITY_RESOLUTION_SECONDS
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
OTP_TOTP_ISSUER = "Haven"
# Passkeys and security keys (django-otp-webauthn) are a second factor only, never a way to
# skip the password. The relying party is the host the request came to (ALLOWED_HOSTS has
# vetted it) unless HAVEN_WEBAUTHN_RP_ID pins it; see accounts/passkeys.py.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_HELPER_CLASS = "haven.accounts.passkeys.HavenWebAuthnHelper"
OTP_WEBAUTHN_RP_NAME = "Haven"
OTP_WEBAUTHN_RP_ID_CALLABLE = "haven.accounts.passkeys.relying_party_id"
HAVEN_WEBAUTHN_RP_ID = os.environ.get("HAVEN_WEBAUTHN_RP_ID", "")
# The library's start-up check wants a list; Haven's helper accepts the origin of the request
# itself (its host already vetted by ALLOWED_HOSTS, so the port of a development server works).
OTP_WEBAUTHN_ALLOWED_ORIGINS = [
    f"https://{host}" for host in ALLOWED_HOSTS if host and not host.startswith((".", "*"))
] or ["https://localhost"]
# A factor change (adding or removing a passkey, new recovery codes) needs the password and a
# code given this recently on the "Sign-in and security" page.
FACTOR_CHANGE_REAUTH_SECONDS = 5 * 60
RECOVERY_CODE_COUNT = 10
# ASVS 4.0.3 2.3.1: a system-generated first password stops working after this many hours
# (an administrator then sends a reset code).
FIRST_PASSWORD_HOURS = int(os.environ.get("HAVEN_FIRST_PASSWORD_HOURS", "72"))
# ASVS 4.0.3 2.7.2: an out-of-band code lives at most 10 minutes.
PASSWORD_RESET_MINUTES = 10
API_TOKEN_DAYS = 30
# The largest document a case may hold, and the largest request body (Django refuses a bigger
# one before reading it; the API answers 413). The body default fits the largest document as
# base64 JSON (4/3 of its size) plus its other fields.
HAVEN_DOCUMENT_MAX_BYTES = int(os.environ.get("HAVEN_DOCUMENT_MAX_BYTES", str(10 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = int(
    os.environ.get(
        "HAVEN_REQUEST_BODY_MAX_BYTES", str(HAVEN_DOCUMENT_MAX_BYTES * 4 // 3 + 64 * 1024)
    )
)
# Vetting, designations and training: the person and their line manager are told this many days
# before each lapses (and once when it has lapsed), e.g. HAVEN_EXPIRY_NOTICE_DAYS="30,7".
EXPIRY_NOTICE_DAYS = tuple(
    int(days) for days in os.environ.get("HAVEN_EXPIRY_NOTICE_DAYS", "30,7").split(",") if days
)
# Who can reach what is reviewed and confirmed at least this often (quarterly by default).
ACCESS_REVIEW_DAYS = int(os.environ.get("HAVEN_ACCESS_REVIEW_DAYS", "90"))
# How long before an on-call shift starts its holder is reminded (rota.services): half a day
# lets someone who is off arrange cover the night before a morning handover.
SHIFT_REMINDER_HOURS = float(os.environ.get("HAVEN_SHIFT_REMINDER_HOURS", "12"))
API_TOKEN_RATE = os.environ.get("HAVEN_API_TOKEN_RATE", "600/m")
# Issuing a token needs the password and a code entered on the same form: a re-authentication
# that is never older than the request itself.
_served_over_tls = not DEBUG and not env_flag("HAVEN_INSECURE_HTTP")
SESSION_COOKIE_SECURE = _served_over_tls
CSRF_COOKIE_SECURE = _served_over_tls
if _served_over_tls:
    # __Host-: the browser accepts the cookie only over TLS, for this exact host, path /.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
SECURE_HSTS_SECONDS = 31536000 if _served_over_tls else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = _served_over_tls
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Background jobs (reminders, escalations): `haven db_worker` runs them.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# The parts /healthz and `haven status` expect a fresh heartbeat from (add "mqtt" where the
# MQTT listener runs), and how old a heartbeat may be before its part counts as down.
_DEFAULT_PARTS = "web,worker,scheduler,osmand,teltonika"
HAVEN_EXPECTED_PARTS = [
    part.strip()
    for part in os.environ.get("HAVEN_EXPECTED_PARTS", _DEFAULT_PARTS).split(",")
    if part.strip()
]
HAVEN_HEARTBEAT_STALE_SECONDS = int(os.environ.get("HAVEN_HEARTBEAT_STALE_SECONDS", "60"))

# Alert delivery (haven.notifications): what leaves is only "a new alert: category reference".
EMAIL_HOST = os.environ.get("HAVEN_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("HAVEN_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("HAVEN_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("HAVEN_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_flag("HAVEN_EMAIL_STARTTLS")
DEFAULT_FROM_EMAIL = os.environ.get("HAVEN_EMAIL_FROM", "haven-alerts@localhost")
HAVEN_NOTIFY_API_KEY = os.environ.get("HAVEN_NOTIFY_API_KEY", "")
HAVEN_NOTIFY_BASE_URL = os.environ.get(
    "HAVEN_NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk"
)
HAVEN_NOTIFY_SMS_TEMPLATE_ID = os.environ.get("HAVEN_NOTIFY_SMS_TEMPLATE_ID", "")
HAVEN_NOTIFY_EMAIL_TEMPLATE_ID = os.environ.get("HAVEN_NOTIFY_EMAIL_TEMPLATE_ID", "")
HAVEN_DELIVERY_MAX_ATTEMPTS = int(os.environ.get("HAVEN_DELIVERY_MAX_ATTEMPTS", "5"))
HAVEN_DELIVERY_BACKOFF_SECONDS = float(os.environ.get("HAVEN_DELIVERY_BACKOFF_SECONDS", "60"))
HAVEN_DELIVERY_TIMEOUT_SECONDS = float(os.environ.get("HAVEN_DELIVERY_TIMEOUT_SECONDS", "10"))
# Oversight: remind staff of a statutory deadline this many working days before it (each
# threshold once per deadline), e.g. "5,1".
HAVEN_OVERSIGHT_REMINDER_WORKING_DAYS = tuple(
    int(days)
    for days in os.environ.get("HAVEN_OVERSIGHT_REMINDER_WORKING_DAYS", "5,1").split(",")
    if days.strip()
)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = False
USE_TZ = True

# The operations map's tiles (a force runs its own tile server); empty: a plain grid, no fetches.
MAP_TILE_URL = os.environ.get("HAVEN_MAP_TILE_URL", "").strip()
MAP_TILE_ATTRIBUTION = os.environ.get("HAVEN_MAP_TILE_ATTRIBUTION", "").strip()

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
# `haven collectstatic` (run by `make run` and the deployment) writes each asset under a
# content-hashed name with gzip and Brotli copies; WhiteNoise serves them compressed, with a
# year's cache lifetime for hashed names. Served from STATIC_ROOT in development too, so what a
# developer sees is what production serves.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False
# Source maps (several MB from the API docs' bundles) are for a developer's tools, fetched
# rarely: compressing them cost `collectstatic` about 9 s of CPU of its ~20.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"single_line": {"()": "haven.logformat.SingleLineFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "single_line"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# Receivers look for changed geofences in a thread of their own and swap the new index in, so
# an alarm never waits for the database (haven.telemetry.fence_index). Off: in line, in the
# caller's transaction (the test settings, so a test sees the fences it has just made).
HAVEN_FENCE_BACKGROUND = env_flag("HAVEN_FENCE_BACKGROUND", default=not env_flag("HAVEN_TESTING"))

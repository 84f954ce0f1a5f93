"""Settings, read from the environment (see .env.example for every variable).

With nothing set and DEBUG=1 the project runs on an SQLite file and an embedded
filesystem broker, so `make run` needs no external service. Production sets DATABASE_URL
(PostgreSQL) and REDIS_URL (Celery broker, cache, locks and the PSA rate budget).
"""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from sync.tiers import BROKER_VISIBILITY_TIMEOUT_SECONDS
from topleft.env import env_bool, env_float, env_int, env_list, env_str, env_url
from topleft.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("TOPLEFT_VAR_DIR") or BASE_DIR / "var")

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-local-development-key-do-not-use-in-production"

# Fernet key used to encrypt PSA credentials at rest. Local runs derive one from SECRET_KEY;
# production must set it explicitly so rotating SECRET_KEY never makes credentials unreadable.
FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY")
if not FIELD_ENCRYPTION_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be set when DEBUG is off")
    FIELD_ENCRYPTION_KEY = base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()
try:
    Fernet(FIELD_ENCRYPTION_KEY)  # a bad key fails here, not at the first PSA credential read
except ValueError:
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEY is not a Fernet key (32 url-safe base64 bytes)"
    ) from None

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
PUBLIC_URL = (env_url("PUBLIC_URL", schemes=("https", "http")) or "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files for /api/docs/ (no CDN)
    "psa",
    "sync",
    "boards",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# --- login throttling (django-axes) --------------------------------------------------------
# Wrong passwords are counted per account and, separately, per client address: after
# AXES_FAILURE_LIMIT failures either one is refused until the cool-off ends, so neither guessing
# one account from many addresses nor many accounts from one address goes unnoticed.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_VERBOSE = False  # no "AXES: BEGIN ..." banner on every start-up (make run's console, commands)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind one proxy the client address is the X-Forwarded-For hop that proxy appended (hops a
# client wrote itself are ignored); without a proxy it is the socket's address.
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if BEHIND_PROXY else ["REMOTE_ADDR"]
)
AXES_IPWARE_PROXY_COUNT = 1 if BEHIND_PROXY else None

# --- transport security (`manage.py check --deploy` is clean with DEBUG=0) -----------------
# Production serves https only; a local `make run` (DEBUG=1) stays on plain http. Behind a TLS
# proxy set BEHIND_PROXY=1 so X-Forwarded-Proto tells Django the request was https.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# In-cluster probes and scrapes speak plain http.
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz/?$", r"^metrics/?$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
# Preloading HSTS is a commitment for the whole domain that its owner makes (SECURE_HSTS_PRELOAD=1),
# not a default: its check stays quiet.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG

ROOT_URLCONF = "topleft.urls"
WSGI_APPLICATION = "topleft.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    try:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    except Exception as exc:  # dj-database-url raises several types for a bad URL
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "topleft.sqlite3"),
            # Several processes (web, worker, beat) share the file: WAL mode, wait for locks, and
            # take the write lock when a transaction starts (IMMEDIATE) so a reader never has to
            # upgrade mid-transaction, which SQLite answers with an instant "database is locked".
            "OPTIONS": {
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL;",
                "transaction_mode": "IMMEDIATE",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker, cache, rate budget ----------------------------------------------------
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss", "unix"))
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    # A task of a killed worker (acks late) is delivered again after this: the longest task's
    # time limit and a margin (sync/tiers.py), not an hour.
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": BROKER_VISIBILITY_TIMEOUT_SECONDS}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    # Embedded broker: kombu's filesystem transport, so worker and beat still run as real
    # processes with no external service.
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("out", "processed"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        # Broadcast (control) messages too, or kombu writes them to ./control in the working dir.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }

CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

# --- PSA access ---------------------------------------------------------------------------
# Requests per minute each connection may spend on background work (sync, notes); interactive
# calls (write-back, webhook refresh) get the rest of the PSA's ~1000/min.
PSA_BACKGROUND_BUDGET_PER_MINUTE = env_int("PSA_BACKGROUND_BUDGET_PER_MINUTE", 600, minimum=1)
PSA_TIMEOUT_SECONDS = env_int("PSA_TIMEOUT_SECONDS", 30, minimum=1)
# Requests/minute a PSA site accepts before it throttles (ConnectWise: ~1000). Webhook refreshes
# spend what background work leaves of it; raise only for a PSA (or sandbox) that allows more.
# 0: each provider's own limit (ConnectWise about 1000/minute); a number overrides it (benchmarks).
PSA_SITE_REQUESTS_PER_MINUTE = env_int("PSA_SITE_REQUESTS_PER_MINUTE", 0, minimum=0)

# --- Tiered sync (sync/tiers.py, sync/locks.py) --------------------------------------------
# A tier's lease on a connection is renewed by its holder's heartbeat every third of this; a
# killed worker's lease is taken over after at most this many seconds (sync/locks.py).
SYNC_LOCK_TTL_SECONDS = env_int("SYNC_LOCK_TTL_SECONDS", 45, minimum=1)
# A deleting run refuses to delete more than this share of any scope, whatever its size (one
# row excepted), unless an operator approved that one mass delete (sync/engine/approvals.py).
SYNC_MASS_DELETE_SHARE = env_float("SYNC_MASS_DELETE_SHARE", 0.5, minimum=0.0, maximum=1.0)
# Time entries are mirrored for this many days back (older ones never show on a card).
SYNC_TIME_ENTRY_DAYS = env_int("SYNC_TIME_ENTRY_DAYS", 90, minimum=1)
# SyncRun history kept for the status page and the admin.
SYNC_RUN_RETENTION_DAYS = env_int("SYNC_RUN_RETENTION_DAYS", 30, minimum=1)
# Fairness (sync/tasks_lanes.py): a changes run longer than this is slow; on the `changes`
# lane it is stopped there and the connection's next runs take the `slow` lane until one is
# quick again. Healthy connections with small data finish in about a second.
SYNC_CHANGES_LANE_SECONDS = env_int("SYNC_CHANGES_LANE_SECONDS", 20, minimum=1)
# A tier whose runs keep failing is skipped for 1, 3, 7 ... periods, never longer than this.
SYNC_BACKOFF_MAX_SECONDS = env_int("SYNC_BACKOFF_MAX_SECONDS", 3600, minimum=0)
# Webhook refreshes for one connection are batched over this quiet period (seconds).
REALTIME_COALESCE_SECONDS = env_float("REALTIME_COALESCE_SECONDS", 0.3, minimum=0.0)

# --- Auth, i18n, static -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/boards/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or VAR_DIR / "static")
if DEBUG:
    # WhiteNoise warns about a missing root; local runs serve straight from the finders.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [p for p in [BASE_DIR / "node_modules"] if p.exists()]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "TopLeft API",
    "VERSION": "1.0.0",
    # Login required everywhere, the schema included (drf-spectacular serves it to anyone by default).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # /api/docs/ loads Swagger UI from our own static files (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# --- Operations: logs, health, metrics (topleft/logs.py, topleft/health.py, topleft/metrics.py) -----
# LOG_FORMAT=json: one JSON object per line for a log shipper; plain: readable on a terminal.
LOGGING = logging_config(
    log_format=env_str("LOG_FORMAT", "plain") or "plain", level=env_str("LOG_LEVEL", "INFO") or "INFO"
)
# Bearer token a Prometheus scrape of /metrics must send; unset: /metrics answers 404.
METRICS_TOKEN = env_str("METRICS_TOKEN") or ""
# /readyz fails when the beat heartbeat (stamped every 30 s through the realtime queue) is older
# than this, or when an outbox entry has been waiting for the PSA longer than the other.
READYZ_BEAT_MAX_AGE_SECONDS = env_int("READYZ_BEAT_MAX_AGE_SECONDS", 180, minimum=30)
READYZ_OUTBOX_MAX_AGE_SECONDS = env_int("READYZ_OUTBOX_MAX_AGE_SECONDS", 900, minimum=60)
# Write-back pushes of one connection in flight at once: a slow or failing PSA holds at most this
# many realtime worker slots; its other edits wait (their cards stay "sending") and go next.
OUTBOX_PUSHES_PER_CONNECTION = env_int("OUTBOX_PUSHES_PER_CONNECTION", 2, minimum=1)

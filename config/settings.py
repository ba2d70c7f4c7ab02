"""Django settings for Sanpo, read from the environment (12-factor).

Production differs from a laptop only by environment variables; every one of them is listed in
the README. With no DATABASE_URL the service runs on an embedded SQLite file, and with no
CELERY_BROKER_URL tasks run eagerly in-process, so `make run` needs nothing installed.
"""

import base64
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from pythonjsonlogger.core import RESERVED_ATTRS

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# Fixed, public values for a laptop and for the test suite only. They are refused unless
# SANPO_ALLOW_INSECURE_DEFAULTS is set; it defaults to on only on the embedded SQLite database
# (no DATABASE_URL), which no deployment uses, so `manage.py` just works on a laptop while a
# production deployment cannot start on them.
ALLOW_INSECURE_DEFAULTS = env_bool("SANPO_ALLOW_INSECURE_DEFAULTS", not env_str("DATABASE_URL"))
_INSECURE_SECRET_KEY = "insecure-sanpo-development-key-never-use-in-production-0123456789"  # noqa: S105
_INSECURE_ENCRYPTION_KEY = "c2FucG8tZGV2LWtleS1ub3QtZm9yLXByb2R1Y3Rpb24="


def _secret(name: str, insecure_default: str) -> str:
    value = env_str(name)
    if value:
        return value
    if ALLOW_INSECURE_DEFAULTS:
        return insecure_default
    raise ImproperlyConfigured(
        f"{name} must be set (or SANPO_ALLOW_INSECURE_DEFAULTS=true on a development machine)."
    )


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = _secret("SECRET_KEY", _INSECURE_SECRET_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "partners",
    "consent",
    "federation",
]

MIDDLEWARE = [
    "config.middleware.RequestIdMiddleware",
    "config.metrics.MetricsMiddleware",
    "config.middleware.ProxiedClientAddressMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.middleware.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
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
_database_url = env_str("DATABASE_URL")
if _database_url:
    try:
        DATABASES = {
            "default": dj_database_url.parse(
                _database_url, conn_max_age=60, conn_health_checks=True
            )
        }
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc
else:
    (BASE_DIR / "var").mkdir(exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(BASE_DIR / "var" / "sanpo.sqlite3"),
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }
# A streaming replica for reporting reads (partners.db): only the reads that ask for it with
# ``.using(replica_alias())`` go there; every other read and every write stays on the primary.
# Under the test runner it names the primary's test database (MIRROR: no test database of its
# own), which a streaming replica holds too (tests/test_replica.py).
_replica_url = env_str("DATABASE_REPLICA_URL")
if _replica_url:
    if not _database_url:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs DATABASE_URL (the primary).")
    try:
        DATABASES["replica"] = dj_database_url.parse(
            _replica_url, conn_max_age=60, conn_health_checks=True
        )
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"DATABASE_REPLICA_URL is not a valid database URL: {exc}"
        ) from exc
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["partners.db.PrimaryRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits are counted here, so it must be shared by every worker) ------------
_redis_url = env_str("REDIS_URL")
if _redis_url:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _redis_url,
            "KEY_PREFIX": "sanpo",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
# Without a broker, tasks run in-process so a laptop needs nothing but Python.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A message that cannot be published at once stays in the outbox (partners.tasking) for the
# relay: a broker out of reach must not hold a request for kombu's retries (about 6 s).
# Workers reconnect by Celery's own broker_connection_retry, which this leaves alone.
# Redis hands a message that a worker took but never acknowledged (the worker was killed) to
# another worker after this many seconds. A task running longer than this is handed out twice,
# so it stays above the longest task; fault tests shorten it to see the redelivery happen.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 0,
    "visibility_timeout": env_int("CELERY_BROKER_VISIBILITY_TIMEOUT", 3600, minimum=1),
}
CELERY_TIMEZONE = "UTC"

# --- Auth, guardian ---------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: anonymous users never hold object permissions.
GUARDIAN_RAISE_403 = False
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation: stored in UTC, shown in Tokyo time -------------------------------
# Japanese first: pages and the admin speak Japanese unless the person chose English (their
# saved preference, the language switch, or the browser's Accept-Language). The partner API
# answers in English unless Accept-Language asks for Japanese (config.middleware).
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "config" / "locale"]  # apps keep theirs in <app>/locale
# Named date formats per language (templates: date:"SHORT_DATETIME_FORMAT"); numbers group
# only where a template asks (intcomma), never ids, years or codes.
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

# --- Static files: served by WhiteNoise from local files, never from a CDN -------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Security: safe by default, TLS settings once a proxy terminates TLS --------------------
BEHIND_TLS = env_bool("SANPO_BEHIND_TLS", not DEBUG)
SESSION_COOKIE_SECURE = BEHIND_TLS
CSRF_COOKIE_SECURE = BEHIND_TLS
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# How many proxies of ours append to X-Forwarded-For (the TLS proxy: 1); 0 uses the
# connection's own address. Never more than really run: clients can write that header too.
SANPO_TRUSTED_PROXY_HOPS = env_int("SANPO_TRUSTED_PROXY_HOPS", 1 if BEHIND_TLS else 0, minimum=0)
if BEHIND_TLS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SANPO_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SANPO_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Probes and Prometheus talk to the app server directly, not through the TLS proxy.
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]

# Request bodies are capped: larger bodies are refused with 413 before they are parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("SANPO_MAX_BODY_BYTES", 1_048_576, minimum=1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2_000

# --- Django REST framework --------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["partners.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["partners.api.permissions.HasPartnerScope"],
    "DEFAULT_THROTTLE_CLASSES": ["partners.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_PARSER_CLASSES": ["partners.api.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "partners.api.pagination.CappedCursorPagination",
    "EXCEPTION_HANDLER": "partners.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "partners.api.schema.PartnerAutoSchema",
    "UNAUTHENTICATED_USER": None,
}
# The partner API's docs: the guides are the markdown files of partners/api/docs, in the order
# of their names, so the served docs (ReDoc, Swagger UI) and the README share one source.
_API_GUIDES = sorted((BASE_DIR / "partners" / "api" / "docs").glob("*.md"))
SPECTACULAR_SETTINGS = {
    "TITLE": "Sanpo partner API",
    "DESCRIPTION": "\n\n".join(guide.read_text(encoding="utf-8") for guide in _API_GUIDES),
    "VERSION": "1.0.0",
    "TAGS": [
        {"name": "me", "description": "The calling company and key."},
        {"name": "partners", "description": "The companies of the alliance you may see."},
        {
            "name": "api-keys",
            "description": "Your company's API keys: issue, revoke, rotate (admin scope).",
        },
        {
            "name": "webhook-endpoints",
            "description": "Receivers of your company's events, their signing secrets and "
            "delivery log (admin scope); see *Webhooks* above.",
        },
        {"name": "webhook-event-types", "description": "The events a receiver may subscribe to."},
        {
            "name": "members",
            "description": "Your own member accounts, their personal data (encrypted at rest), "
            "and what is recorded per member: consents, preference links, data-subject requests.",
        },
        {
            "name": "consent",
            "description": "The purpose catalogue, the privacy notices in force, the one "
            "question every use of member data asks (the check), and withdrawals to act on.",
        },
        {
            "name": "data-requests",
            "description": "Data-subject requests (access, erasure) of your members, and an "
            "access request's export.",
        },
        {
            "name": "coins",
            "description": "The shared coin: earn for a purchase, take back for a refund, "
            "redeem, and read a member's balances and history. Every POST requires an "
            "Idempotency-Key, and a refusal is its final answer.",
        },
        {
            "name": "referrals",
            "description": "Cross-referrals: the source's offers and links (with printable "
            "codes), the destination's conversions and refunds, and each company's own funnel. "
            "Clicks go through the public `/r/<token>` link, which only ever redirects to the "
            "offer's landing page.",
        },
        {
            "name": "agreements",
            "description": "The co-marketing agreements your company is party to, their "
            "versioned terms, and your signature.",
        },
        {
            "name": "enrollments",
            "description": "Mutual enrollment: enroll your members in a partner's program "
            "within an agreement and the member's consent; read, confirm, end.",
        },
        {"name": "enrollment-batches", "description": "The progress of a bulk enrollment."},
        {
            "name": "overlap",
            "description": "How many of your members are also another party's: counts only, "
            "small cells withheld, with noise and a monthly budget; and who may count yours.",
        },
        {
            "name": "settlement",
            "description": "What your company owes and is owed for coins redeemed across the "
            "alliance, period by period: your lines, your one net amount through the host, "
            "your statement (canonical JSON with its SHA-256, or CSV), and disputes.",
        },
        {
            "name": "campaigns",
            "description": "Sampling and research campaigns: propose a trial product to a "
            "consented segment of the host's members, take the shipment list, and read the "
            "survey's results in aggregates; the host approves and sends its members' answers.",
        },
        {
            "name": "metrics",
            "description": "Your company's figures over time (members active and dormant, coins, "
            "referrals, enrollments) with the alliance's totals, small counts of people "
            "withheld, as JSON or CSV; and the measured lift of your reactivation bonus against "
            "its holdout group, with 95% intervals.",
        },
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No web fonts: config/templates/sanpo/redoc.html loads none, so name the system's own.
    "REDOC_UI_SETTINGS": {
        "theme": {
            "typography": {
                "fontFamily": 'system-ui, "Hiragino Sans", "Noto Sans JP", sans-serif',
                "headings": {"fontFamily": 'system-ui, "Hiragino Sans", sans-serif'},
                "code": {"fontFamily": "ui-monospace, Menlo, Consolas, monospace"},
            }
        },
    },
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "DEFAULT_GENERATOR_CLASS": "partners.api.schema.EnglishSchemaGenerator",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "partners.api.schema.with_error_code_table",
    ],
}

# --- Sanpo --------------------------------------------------------------------------------------
# Fernet keys (urlsafe base64, 32 bytes), newest first: encryption uses the first, decryption
# tries them all, and `manage.py rotate_encryption_keys` re-encrypts under the first.
SANPO_ENCRYPTION_KEYS = env_list("SANPO_ENCRYPTION_KEYS", []) or [
    _secret("SANPO_ENCRYPTION_KEYS", _INSECURE_ENCRYPTION_KEY)
]
for _key in SANPO_ENCRYPTION_KEYS:
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(
            "SANPO_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe "
            "base64-encoded bytes); generate one with `manage.py generate_encryption_key`."
        ) from None
# Member personal data (partners/pii.py). Keys are "<id>:<urlsafe base64 of 32 bytes>", newest
# first; ids are short labels stored beside each row so old keys keep working until rotated away.
# Master keys wrap each member's own data key (`manage.py rotate_member_keys --master` re-wraps);
# blind-index keys make e-mail and phone matchable without decrypting (`rotate_member_keys
# --blind-index` recomputes). The pseudonym key derives every partner's member ids; it never
# rotates, because partners store those ids.
_INSECURE_MEMBER_MASTER_KEY = "dev1:c2FucG8tZGV2LW1hc3Rlci1rZXktbm90LXByb2Qtb2s="
_INSECURE_BLIND_INDEX_KEY = "dev1:c2FucG8tZGV2LWJsaW5kLWluZGV4LWtleS1ub3QtcHI="
_INSECURE_PSEUDONYM_KEY = "c2FucG8tZGV2LXBzZXVkb255bS1rZXktbm90LXByb2Q="
_INSECURE_SETTLEMENT_SIGNING_KEY = "dev1:c2FucG8tZGV2LXNldHRsZW1lbnQtc2lnbmluZy1rZXk="


def _member_keys(name: str, insecure: str) -> list[tuple[str, bytes]]:
    keys = []
    for item in env_list(name, []) or [_secret(name, insecure)]:
        key_id, _, encoded = item.partition(":")
        try:
            raw = base64.urlsafe_b64decode(encoded)
        except (ValueError, TypeError):
            raw = b""
        if not key_id or len(key_id) > 16 or len(raw) != 32:
            raise ImproperlyConfigured(
                f"{name} must be a comma-separated list of <id>:<urlsafe base64 of 32 bytes> "
                "(id at most 16 characters); generate one with `manage.py generate_encryption_key "
                "--member-key <id>`."
            )
        keys.append((key_id, raw))
    if len({key_id for key_id, _ in keys}) != len(keys):
        raise ImproperlyConfigured(f"{name} lists the same key id twice.")
    return keys


SANPO_MEMBER_MASTER_KEYS = _member_keys("SANPO_MEMBER_MASTER_KEYS", _INSECURE_MEMBER_MASTER_KEY)
SANPO_BLIND_INDEX_KEYS = _member_keys("SANPO_BLIND_INDEX_KEYS", _INSECURE_BLIND_INDEX_KEY)
# Ed25519 private keys (the 32-byte seeds) that sign issued settlement statements, in the same
# "<id>:<urlsafe base64 of 32 bytes>" form, newest first: the first signs, every one's public
# key stays served (GET /api/v1/settlement/signing-keys) so older statements keep verifying.
SANPO_SETTLEMENT_SIGNING_KEYS = _member_keys(
    "SANPO_SETTLEMENT_SIGNING_KEYS", _INSECURE_SETTLEMENT_SIGNING_KEY
)
# The TrueType font with Japanese glyphs embedded in settlement statement PDFs (IPA Gothic from
# Debian's fonts-ipafont-gothic by default); where the file is missing, the PDFs use
# reportlab's built-in CID font HeiseiKakuGo-W5, named but not embedded.
SANPO_PDF_FONT = env_str("SANPO_PDF_FONT", "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf")
try:
    SANPO_PSEUDONYM_KEY = base64.urlsafe_b64decode(
        _secret("SANPO_PSEUDONYM_KEY", _INSECURE_PSEUDONYM_KEY)
    )
except ValueError:
    SANPO_PSEUDONYM_KEY = b""
if len(SANPO_PSEUDONYM_KEY) != 32:
    raise ImproperlyConfigured(
        "SANPO_PSEUDONYM_KEY must be urlsafe base64 of 32 bytes; generate one with "
        "`manage.py generate_encryption_key --pseudonym-key`. It never changes once partners "
        "hold ids derived from it."
    )
# Member imports: rows per staged chunk (one commit and progress checkpoint each), and the
# longest line accepted before the line is reported as an error and skipped.
# A partner must confirm within this many hours that it stopped using data whose consent was
# withdrawn; unconfirmed withdrawals are re-sent every few hours and listed as overdue.
SANPO_WITHDRAWAL_ACK_HOURS = env_int("SANPO_WITHDRAWAL_ACK_HOURS", 72, minimum=1)
SANPO_WITHDRAWAL_RESEND_HOURS = env_int("SANPO_WITHDRAWAL_RESEND_HOURS", 6, minimum=1)
# APPI: provision records are kept one to three years, depending on how the provision was
# recorded (three by default), then purged by a daily task, whole months at a time on
# PostgreSQL (README, "Partitioning"); less than a year is below any period the law allows.
SANPO_PROVISION_RETENTION_DAYS = env_int("SANPO_PROVISION_RETENTION_DAYS", 3 * 365 + 1, minimum=365)
# Referral clicks are kept this many days, then deleted by a daily task unless a conversion
# names them (their fingerprint is blanked then); longer than any attribution window (365).
SANPO_REFERRAL_CLICK_RETENTION_DAYS = env_int(
    "SANPO_REFERRAL_CLICK_RETENTION_DAYS", 400, minimum=366
)
# How long a member's preference-page link works after the host's portal asked for it.
SANPO_PREFERENCE_LINK_HOURS = env_int("SANPO_PREFERENCE_LINK_HOURS", 24, minimum=1)
# Each process caches consent states for the single check, kept current by PostgreSQL
# LISTEN/NOTIFY (consent.check_cache); off, every check is a database round trip.
SANPO_CONSENT_CACHE = env_bool("SANPO_CONSENT_CACHE", True)
SANPO_CONSENT_CACHE_MEMBERS = env_int("SANPO_CONSENT_CACHE_MEMBERS", 200_000, minimum=1)
# A data-subject request must be answered within this many days of being received (GDPR: one
# month; APPI: without delay). The compliance pages flag open requests past it.
SANPO_DSR_DUE_DAYS = env_int("SANPO_DSR_DUE_DAYS", 30, minimum=1)
# Overlap counts shown to a partner carry fresh noise of this scale (federation.services.overlap;
# 0 shows exact counts), and a partner may ask about another's base this often in 30 days.
# The smallest overlap cell shown anywhere in the alliance; an agreement may only raise it.
SANPO_OVERLAP_MIN_CELL_FLOOR = env_int("SANPO_OVERLAP_MIN_CELL_FLOOR", 50, minimum=10)
SANPO_OVERLAP_NOISE_SCALE = env_int("SANPO_OVERLAP_NOISE_SCALE", 4, minimum=0)
SANPO_OVERLAP_QUESTIONS_PER_MONTH = env_int("SANPO_OVERLAP_QUESTIONS_PER_MONTH", 20, minimum=1)
# A member drawn for a campaign is not drawn for another of the same category for this many days.
SANPO_CAMPAIGN_COOLDOWN_DAYS = env_int("SANPO_CAMPAIGN_COOLDOWN_DAYS", 90, minimum=0)
# The share of a programme's members held out (never contacted, no bonus) so that its effect
# can be measured (federation.holdouts); recorded with the programme when it first asks.
SANPO_HOLDOUT_PERCENT = env_int("SANPO_HOLDOUT_PERCENT", 10, minimum=0)
# A member with no activity with a company for this many days is dormant (federation.metrics).
SANPO_METRICS_DORMANT_DAYS = env_int("SANPO_METRICS_DORMANT_DAYS", 90, minimum=1)
if SANPO_HOLDOUT_PERCENT > 50:
    raise ImproperlyConfigured("SANPO_HOLDOUT_PERCENT must be at most 50.")
SANPO_IMPORT_CHUNK_ROWS = env_int("SANPO_IMPORT_CHUNK_ROWS", 5_000, minimum=1)
SANPO_IMPORT_MAX_LINE_BYTES = env_int("SANPO_IMPORT_MAX_LINE_BYTES", 65_536, minimum=1024)
SANPO_IMPORT_MAX_UPLOAD_BYTES = env_int("SANPO_IMPORT_MAX_UPLOAD_BYTES", 4 * 1024**3, minimum=1)
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
SANPO_API_RATE_LIMIT_PER_MINUTE = env_int("SANPO_API_RATE_LIMIT_PER_MINUTE", 600, minimum=1)
SANPO_API_MAX_PAGE_SIZE = env_int("SANPO_API_MAX_PAGE_SIZE", 200, minimum=1)
SANPO_IDEMPOTENCY_KEY_TTL_HOURS = env_int("SANPO_IDEMPOTENCY_KEY_TTL_HOURS", 24, minimum=1)
SANPO_API_KEY_ROTATION_OVERLAP_HOURS = env_int(
    "SANPO_API_KEY_ROTATION_OVERLAP_HOURS", 24, minimum=0
)
SANPO_WEBHOOK_SECRET_OVERLAP_HOURS = env_int("SANPO_WEBHOOK_SECRET_OVERLAP_HOURS", 24, minimum=0)
SANPO_WEBHOOK_MAX_ATTEMPTS = env_int("SANPO_WEBHOOK_MAX_ATTEMPTS", 8, minimum=1)
SANPO_WEBHOOK_RETRY_BASE_SECONDS = env_int("SANPO_WEBHOOK_RETRY_BASE_SECONDS", 30, minimum=0)
SANPO_WEBHOOK_TIMEOUT_SECONDS = env_int("SANPO_WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
# Finished webhook deliveries (and their attempts) are kept this many days, then taken away by
# a daily task, whole months at a time on PostgreSQL (README, "Partitioning"); a pending one stays.
SANPO_WEBHOOK_DELIVERY_RETENTION_DAYS = env_int(
    "SANPO_WEBHOOK_DELIVERY_RETENTION_DAYS", 90, minimum=7
)
# Loopback receivers are refused like any internal address unless explicitly allowed, which
# only local development and the test suite should do.
SANPO_WEBHOOK_ALLOW_LOOPBACK = env_bool("SANPO_WEBHOOK_ALLOW_LOOPBACK", False)

# /metrics (config.metrics) answers whoever sends this bearer token; unset, only this host.
SANPO_METRICS_TOKEN = env_str("SANPO_METRICS_TOKEN")

# Logs go to standard error, one line per record, each with the id of the request (or of the
# request whose task) it was written for (partners.request_ids): plain text for people by
# default, one JSON object per line for a log collector with LOG_FORMAT=json.
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} is neither plain nor json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "partners.request_ids.RequestIdFilter"},
        "request_route": {"()": "config.log_filters.RequestRouteFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601 in UTC
            "json_ensure_ascii": False,
            # Not Django's request object, which Django attaches to a 4xx or 5xx record: its
            # text would name the path (config.log_filters).
            "reserved_attrs": [*RESERVED_ATTRS, "request"],
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "request_route"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

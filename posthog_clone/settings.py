"""Django settings, read top to bottom. Every value comes from the environment (see .env.example).

Defaults just run: SQLite and embedded chDB under ./var, the embedded ingestion queue, no services.
URL schemes choose the backends: DATABASE_URL, CLICKHOUSE_URL, CELERY_BROKER_URL.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from posthog_clone.env import (
    JOIN_ALGORITHMS,
    env_bool,
    env_choice,
    env_int,
    env_jemalloc_conf,
    env_list,
    env_rate,
    env_secret,
    env_server_settings,
    env_str,
    parse_broker_url,
    parse_clickhouse_url,
    parse_database_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    key = env_secret("SECRET_KEY")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY: required when DEBUG is off (set SECRET_KEY or SECRET_KEY_FILE; `make serve` does)"
        )
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
# Proxies whose X-Forwarded-For we believe for the capture IP ("*" trusts any peer, the PostHog default).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", ["*"])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

# This project's apps: posthog_clone/urls.py mounts their routes.py and urls.py, in this order.
PROJECT_APPS = [
    "openapi", "capture", "ingestion", "definitions", "query", "exports", "file_system", "flags", "persons", "actions",
    "cohorts", "insights", "dashboards", "annotations", "surveys", "sdk_assets", "replay", "experiments",
    "console",
]  # fmt: skip
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "openapi",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "posthog_clone.accounts",
    "posthog_clone.clickhouse",
    "posthog_clone.server",
    *[app for app in PROJECT_APPS if app != "openapi"],  # openapi comes before drf_spectacular (its templates)
]

MIDDLEWARE = [
    "posthog_clone.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "posthog_clone.urls"
WSGI_APPLICATION = "posthog_clone.wsgi.application"
APPEND_SLASH = False
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
            ]
        },
    }
]

DATABASES = {
    "default": parse_database_url(
        "DATABASE_URL", env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'posthog_clone.sqlite3'}")
    )
}

# ClickHouse: chdb:///path (embedded, the default) or http(s)://user:pass@host:port/db (a server).
CLICKHOUSE = parse_clickhouse_url("CLICKHOUSE_URL", env_str("CLICKHOUSE_URL", f"chdb://{VAR_DIR / 'clickhouse'}"))
CLICKHOUSE_DATABASE = env_str(
    "CLICKHOUSE_DATABASE", CLICKHOUSE.database if CLICKHOUSE.database != "default" else "posthog"
)
CLICKHOUSE_CLUSTER = env_str("CLICKHOUSE_CLUSTER", "")
CLICKHOUSE_MIGRATE_ON_START = env_bool("CLICKHOUSE_MIGRATE_ON_START", True)
# Set by `manage.py serve` for its web processes when chDB is the store: the socket of the engine process
# that owns the chDB directory (posthog_clone/clickhouse/engine.py). Empty: this process opens ClickHouse.
CLICKHOUSE_ENGINE_ADDRESS = ""

# Embedded chDB's memory (posthog_clone/clickhouse/chdb_config.py, docs/operations.md "Memory"): the process
# owning chDB writes these into VAR_DIR/chdb-config.xml and sets chDB's jemalloc options before chDB loads.
CHDB_MARK_CACHE_MB = env_int("CHDB_MARK_CACHE_MB", 64, minimum=0)
CHDB_PRIMARY_INDEX_CACHE_MB = env_int("CHDB_PRIMARY_INDEX_CACHE_MB", 64, minimum=0)
CHDB_QUERY_CONDITION_CACHE_MB = env_int("CHDB_QUERY_CONDITION_CACHE_MB", 16, minimum=0)
CHDB_UNCOMPRESSED_CACHE_MB = env_int("CHDB_UNCOMPRESSED_CACHE_MB", 0, minimum=0)
CHDB_MAX_SERVER_MEMORY_MB = env_int("CHDB_MAX_SERVER_MEMORY_MB", 0, minimum=0)  # 0: chDB's (90% of RAM)
if 0 < CHDB_MAX_SERVER_MEMORY_MB < 256:
    raise ImproperlyConfigured(f"CHDB_MAX_SERVER_MEMORY_MB: 0 (chDB's own) or >= 256, got {CHDB_MAX_SERVER_MEMORY_MB}")
CHDB_SERVER_SETTINGS = env_server_settings("CHDB_SERVER_SETTINGS")
CHDB_JEMALLOC_CONF = env_jemalloc_conf("CHDB_JEMALLOC_CONF", "dirty_decay_ms:1000,muzzy_decay_ms:1000")
# Each HogQL query on chDB: its GROUP BY spills to disk beyond this many MiB (0: never), its joins use this algorithm
CHDB_QUERY_EXTERNAL_GROUP_BY_MB = env_int("CHDB_QUERY_EXTERNAL_GROUP_BY_MB", 0, minimum=0)
CHDB_QUERY_JOIN_ALGORITHM = env_choice("CHDB_QUERY_JOIN_ALGORITHM", JOIN_ALGORITHMS, default="default")

# Queue: unset CELERY_BROKER_URL = the embedded spool drained by a worker thread in the server process.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
if CELERY_BROKER_URL:
    parse_broker_url("CELERY_BROKER_URL", CELERY_BROKER_URL)
INGEST_QUEUE = "celery" if CELERY_BROKER_URL else "spool"
SPOOL_PATH = Path(env_str("SPOOL_PATH", str(VAR_DIR / "spool.sqlite3")))
SPOOL_FSYNC = env_bool("SPOOL_FSYNC", True)
# Capture refuses (503) while the spool's file system has less free space: the worker keeps room to drain.
SPOOL_MIN_FREE_MB = env_int("SPOOL_MIN_FREE_MB", 64, minimum=0)
# bench.ingest (1M events, 2 cores): 42.9k events/s at 25k, 36.8k at 10k, 39.4k at 50k; engine RSS 573 MB at 25k.
# Celery worker (bench.celery_batching), CPU an event: 15.5 µs at 5k, 12.5–13 at 10k, 10.9–11.2 at 25k, 11.2–11.7 at 50k
INGEST_BATCH_SIZE = env_int("INGEST_BATCH_SIZE", 25_000, minimum=1)
INGEST_FLUSH_INTERVAL_MS = env_int("INGEST_FLUSH_INTERVAL_MS", 500, minimum=1)
# Scale mode: a Celery worker's batch also ends at this many messages (each held unacknowledged until written).
# One-event messages cost a worker 40 µs an event at 1,000 a batch, 27 at 5,000 (the message's own cost shared)
INGEST_BATCH_MESSAGES = env_int("INGEST_BATCH_MESSAGES", 5000, minimum=1)
# Persons known to the ingestion worker between batches (each ~300 bytes with its properties; 100 new users a
# second grew the engine ~6 MB a minute with no bound): the least recently seen go first.
INGEST_PERSONS_CACHE_SIZE = env_int("INGEST_PERSONS_CACHE_SIZE", 20_000, minimum=0)
INGEST_WORKER_IN_PROCESS = env_bool("INGEST_WORKER_IN_PROCESS", INGEST_QUEUE == "spool")

CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = env_int("CELERY_WORKER_PREFETCH_MULTIPLIER", 4, minimum=1)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1),
    "unacked_restore_throttle": 1,  # sweep for messages of dead workers every 10 s, not every 100 s
    # A publish to a broker that is down fails within ~0.5 s (capture answers 503), not after kombu's 6 s of
    # retries: one retry at once, each try bounded by the socket timeouts. Those also keep a broker that
    # accepts connections and never answers (hung, half-open, behind a dead NAT) from hanging capture: kombu
    # waits forever by default. A worker's blocking take is read only once its socket is readable, so the
    # timeout does not cut it short; workers reconnect through Celery's own loop
    # (broker_connection_max_retries), not this one.
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
    "socket_timeout": 0.25,
    "socket_connect_timeout": 0.25,
}
CELERY_TASK_DEFAULT_QUEUE = "ingestion"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # workers keep the structured JSON logging configured below
# Celery beat (scale mode): periodic jobs. The embedded default runs them on a scheduler thread.
CELERY_BEAT_SCHEDULE = {
    "exports-delete-expired": {
        "task": "exports.tasks.delete_expired_assets",
        "schedule": 3600.0,
        "options": {"queue": "exports"},
    },
    "replay-delete-expired": {  # recordings older than their project's retention
        "task": "replay.tasks.delete_expired_recordings",
        "schedule": 3600.0,
        "options": {"queue": "replay"},
    },
    "cohorts-schedule-calculations": {  # PostHog's every-minute cohort re-calculation
        "task": "cohorts.tasks.schedule_calculations",
        "schedule": 60.0,
        "options": {"queue": "cohorts"},
    },
    "surveys-stop-reached-target": {  # PostHog's periodic stop of surveys at their responses limit
        "task": "surveys.tasks.stop_surveys_reached_target",
        "schedule": 60.0,
        "options": {"queue": "surveys"},
    },
}

# Session replay: where snapshot blobs are stored (file:///dir, or s3://bucket/prefix?endpoint_url=…&region=…
# with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), and the retention of projects without their own setting.
REPLAY_STORAGE_URL = env_str("REPLAY_STORAGE_URL", f"file://{VAR_DIR / 'replay'}")
REPLAY_DEFAULT_RETENTION_DAYS = env_int("REPLAY_DEFAULT_RETENTION_DAYS", 30, minimum=1)

# Capture limits (bytes).
CAPTURE_MAX_BODY_BYTES = env_int("CAPTURE_MAX_BODY_BYTES", 2 * 1024 * 1024, minimum=1024)
CAPTURE_MAX_BATCH_BODY_BYTES = env_int("CAPTURE_MAX_BATCH_BODY_BYTES", 20 * 1024 * 1024, minimum=1024)
CAPTURE_MAX_DECOMPRESSED_BYTES = env_int("CAPTURE_MAX_DECOMPRESSED_BYTES", 100 * 1024 * 1024, minimum=1024)
# `/s/` (session replay snapshots): PostHog's replay capture takes bodies up to 25 MiB.
CAPTURE_MAX_REPLAY_BODY_BYTES = env_int("CAPTURE_MAX_REPLAY_BODY_BYTES", 25 * 1024 * 1024, minimum=1024)
CAPTURE_MAX_EVENT_BYTES = env_int("CAPTURE_MAX_EVENT_BYTES", 1_000_000, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(CAPTURE_MAX_BATCH_BODY_BYTES, CAPTURE_MAX_REPLAY_BODY_BYTES)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

CACHE_URL = env_str("CACHE_URL", "")
# Without CACHE_URL the cache is diskcache's (SQLite in VAR_DIR/cache, safe across processes): every process
# of `serve` (web processes, the engine) sees the same query results, async query status and throttle
# counters, as they would through Redis. Its size is bounded (CACHE_SIZE_LIMIT_MB, least recently stored go).
CACHE_SIZE_LIMIT_MB = env_int("CACHE_SIZE_LIMIT_MB", 512, minimum=16)
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {
            "BACKEND": "posthog_clone.disk_cache.PersistentDiskCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "TIMEOUT": 300,
            "SHARDS": 4,
            "DATABASE_TIMEOUT": 1.0,
            "OPTIONS": {"size_limit": CACHE_SIZE_LIMIT_MB * 2**20},
        }
    )
}

RATE_LIMIT_ENABLED = env_bool("RATE_LIMIT_ENABLED", True)
THROTTLE_RATES = {
    "burst": env_rate("RATE_LIMIT_BURST", "480/minute"),
    "sustained": env_rate("RATE_LIMIT_SUSTAINED", "4800/hour"),
    "clickhouse_burst": env_rate("RATE_LIMIT_ANALYTICS_BURST", "240/minute"),
    "clickhouse_sustained": env_rate("RATE_LIMIT_ANALYTICS_SUSTAINED", "1200/hour"),
    "query": env_rate("RATE_LIMIT_QUERY", "2400/hour"),
    "local_evaluation": env_rate("RATE_LIMIT_LOCAL_EVALUATION", "600/minute"),
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "posthog_clone.api.authentication.PersonalAPIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "posthog_clone.api.pagination.DefaultPagination",
    "DEFAULT_PARSER_CLASSES": [
        "posthog_clone.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 100,
    "DEFAULT_THROTTLE_CLASSES": [
        "posthog_clone.api.throttling.BurstRateThrottle",
        "posthog_clone.api.throttling.SustainedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": THROTTLE_RATES,
    "EXCEPTION_HANDLER": "posthog_clone.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "posthog_clone.api.schema.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "posthog_clone API",
    "DESCRIPTION": "A PostHog-compatible analytics backend.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "capture.openapi.add_capture_paths",
        "posthog_clone.api.schema.document_errors",  # last: sees every operation, also those added by hand
    ],
    "ENUM_NAME_OVERRIDES": {
        "PropertyDefinitionTypeEnum": "definitions.models.PropertyDefinition.PropertyType",
        "SchemaPropertyTypeEnum": "definitions.models.SchemaPropertyGroupProperty.PropertyType",
        "ActionStepMatchingEnum": "actions.serializers.MATCHING",
        "RetentionEntityTypeEnum": "query.kinds.retention.ENTITY_TYPES",
        "PathTypeEnum": "query.kinds.paths_schema.PATH_TYPES",
        "SurveyTypeEnum": "surveys.models.Survey.Type",
        "ReferenceEnum": ["total", "previous"],  # funnelStepReference and retentionReference
        "ExperimentTypeEnum": "experiments.models.Experiment.Type",
    },
}
# Response validation against each endpoint's declared serializer: strict in tests, logged otherwise.
STRICT_RESPONSE_VALIDATION = env_bool("STRICT_RESPONSE_VALIDATION", False)

# Production hardening (only meaningful behind TLS; see README "Production").
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", SITE_URL.startswith("https://"))
SESSION_COOKIE_HTTPONLY = True  # the web console's session (console/): never readable by page scripts
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
STATIC_URL = "static/"
# WhiteNoise serves the installed apps' static files (Swagger UI's, the admin's) straight from the apps
# (WHITENOISE_USE_FINDERS): no collectstatic step is needed. STATIC_ROOT is where `collectstatic` would put
# them (compressed); WhiteNoise serves it too, and warns at every web process start when it is missing.
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# posthog-js's own files under /static/ (array.js, lazy-recorder.js, surveys.js…): `manage.py fetch_sdk_assets`
# installs the pinned release here; NPM_REGISTRY_URL overrides the registry (default: npm's, else npmjs.org).
SDK_ASSETS_DIR = Path(env_str("SDK_ASSETS_DIR") or VAR_DIR / "sdk-assets").resolve()
NPM_REGISTRY_URL = env_str("NPM_REGISTRY_URL", "")
# The console's pinned front-end libraries (`manage.py fetch_console_assets`), served under
# /static/console/vendor/ by WhiteNoise's finders like the apps' own static files.
CONSOLE_VENDOR_DIR = Path(env_str("CONSOLE_VENDOR_DIR") or VAR_DIR / "console-vendor").resolve()
CONSOLE_VENDOR_DIR.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [("console/vendor", CONSOLE_VENDOR_DIR)]

# Exports: bytes in the database by default; a directory (or S3-compatible store) when configured.
EXPORTS_STORAGE_DIR = env_str("EXPORTS_STORAGE_DIR", "")

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOG_FORMAT = env_str("LOG_FORMAT", "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT: expected json or text, got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "posthog_clone.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

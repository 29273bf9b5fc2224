"""Django settings for Haetae. Every setting that differs between machines comes from the environment."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DATA_DIR = Path(os.environ.get("HAETAE_DATA_DIR") or BASE_DIR / "var").resolve()
VAULT_DIR = DATA_DIR / "vault"
MASTER_KEY_FILE = Path(os.environ.get("HAETAE_MASTER_KEY_FILE") or DATA_DIR / "keys" / "master.key")
LEDGER_KEY_FILE = Path(os.environ.get("HAETAE_LEDGER_KEY_FILE") or DATA_DIR / "keys" / "ledger-ed25519.key")

DEBUG = _env_flag("HAETAE_DEBUG", False)
SECRET_KEY_FILE = DATA_DIR / "keys" / "django-secret.key"


def _secret_key() -> str:
    """Django's signing secret: HAETAE_SECRET_KEY, or a random one kept (0600) in the data dir."""
    if os.environ.get("HAETAE_SECRET_KEY"):
        return os.environ["HAETAE_SECRET_KEY"]
    SECRET_KEY_FILE.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        return SECRET_KEY_FILE.read_text().strip()
    except FileNotFoundError:
        import secrets

        secret = secrets.token_urlsafe(50)
        fd = os.open(SECRET_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secret)
        return secret


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [h for h in os.environ.get("HAETAE_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "evidence",
    "detection",
    "casefile",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "haetae.urls"
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
WSGI_APPLICATION = "haetae.wsgi.application"
ASGI_APPLICATION = "haetae.asgi.application"

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{DATA_DIR / 'haetae.sqlite3'}",
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE: a writer takes the write lock at BEGIN, so ledger appends serialise instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"].setdefault("TEST", {})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", "한국어"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("HAETAE_TIME_ZONE", "Asia/Seoul")

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# WhiteNoise serves static files (the API docs' assets, later the portal's) from the app itself, under
# runserver and gunicorn alike; without `collectstatic` it finds them in the installed apps.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # collectstatic fills it in production

# Uploads stream to temporary files inside the vault's working area, never into memory.
FILE_UPLOAD_HANDLERS = ["evidence.uploads.VaultUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = 0
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "haetae.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Haetae API",
    "DESCRIPTION": "Evidence vault, custody ledger and cases. Every look at content is a custody event.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # The network is closed: the docs' JavaScript and CSS are served from this server, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery: without a broker, tasks run eagerly in-process (the embedded default).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or None
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ROUTES = {
    "evidence.tasks.*": {"queue": "ingest"},
    "detection.tasks.*": {"queue": "detect"},
    "casefile.tasks.*": {"queue": "reports"},
}
CELERY_BEAT_SCHEDULE = {
    "ledger-checkpoint": {
        "task": "evidence.tasks.ledger_checkpoint_task",
        "schedule": float(os.environ.get("HAETAE_CHECKPOINT_INTERVAL_SECONDS", "300")),
        "options": {"queue": "ingest"},
    },
}

# Ingest limits for archives (zip bombs): see docs/ingest.md.
HAETAE_INGEST = {
    "MAX_ARCHIVE_DEPTH": int(os.environ.get("HAETAE_MAX_ARCHIVE_DEPTH", "5")),
    "MAX_COMPRESSION_RATIO": int(os.environ.get("HAETAE_MAX_COMPRESSION_RATIO", "1000")),
    "MAX_ARCHIVE_EXPANDED_BYTES": int(
        os.environ.get("HAETAE_MAX_ARCHIVE_EXPANDED_BYTES", str(256 * 1024**3))
    ),
    "MAX_ARCHIVE_MEMBERS": int(os.environ.get("HAETAE_MAX_ARCHIVE_MEMBERS", "1000000")),
}


# --- support: takedown requests overdue after this many days without an answer (docs/victim-support.md) ---
# HAETAE_TAKEDOWN_OVERDUE_DAYS: "3" for every addressee, or per addressee "3,kcsc=7,support_center=5"
# (a bare number is the default for addressees not named).
def _takedown_overdue_days(raw: str) -> dict[str, int]:
    days = {"default": 3}
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        name, _sep, value = part.rpartition("=")
        if not value.strip().isdigit() or int(value) < 1:
            raise ValueError(
                f"HAETAE_TAKEDOWN_OVERDUE_DAYS: {part!r} is not a whole number of days (1 or more), e.g. "
                "'3' or '3,kcsc=7'"
            )
        days[name.strip() or "default"] = int(value)
    return days


HAETAE_TAKEDOWN_OVERDUE_DAYS = _takedown_overdue_days(os.environ.get("HAETAE_TAKEDOWN_OVERDUE_DAYS", "3"))
# Names for the support choice sets in the OpenAPI schema ("status" and "kind" are used elsewhere too).
_SUPPORT_ENUMS = {
    "SupportStatusEnum": "casefile.models.support.SupportStatus",
    "TakedownStatusEnum": "casefile.models.support.TakedownStatus",
    "ConsentKindEnum": "casefile.models.support.ConsentKind",
    "LinkSourceEnum": "casefile.models.people.LinkSource",  # also a filter named "source" (cases)
}
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    **SPECTACULAR_SETTINGS.get("ENUM_NAME_OVERRIDES", {}),  # type: ignore[dict-item]
    **_SUPPORT_ENUMS,
}
# --- end support ---

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("HAETAE_LOG_LEVEL", "WARNING")},
}

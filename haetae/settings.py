"""Django settings for Haetae. Every setting that differs between machines comes from the environment."""

import os
import zoneinfo
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

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
# Every signed tree head is also appended here, outside the database, so that removing the newest events
# and checkpoints from the database shows in `manage.py verify` (docs/ledger.md, "The witness file").
LEDGER_WITNESS_FILE = Path(os.environ.get("HAETAE_LEDGER_WITNESS_FILE") or DATA_DIR / "ledger-witness.jsonl")

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
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # From the ground floor up (docs/architecture.md): each app imports only from those above it here.
    "accounts",
    "access",
    "evidence",
    "detection",
    "parties",
    "sources",
    "captures",
    "support",
    "search",
    "exhibits",
    "records",
    "portal",
]

MIDDLEWARE = [
    # Outermost: work queued while a request is handled (eager detection) runs after the response.
    "haetae.deferred.DeferOutOfRequestMiddleware",
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
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:dashboard"
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
        "accounts.authentication.HashedTokenAuthentication",
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
# Eager tasks queued during a web request run after its response: on one background thread ("thread"),
# or on the request's thread once the response is delivered ("inline"); see haetae/deferred.py.
HAETAE_DEFERRED_RUNNER = os.environ.get("HAETAE_DEFERRED_RUNNER", "thread")
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ROUTES = {
    "evidence.tasks.*": {"queue": "ingest"},
    "captures.tasks.*": {"queue": "ingest"},  # a capture ends in an ingest
    "detection.tasks.*": {"queue": "detect"},
    "exhibits.tasks.*": {"queue": "reports"},
}
# Sign a checkpoint when a transaction that appended to the ledger commits (one per transaction, however
# many events it appended), in every deployment mode; Celery beat's schedule below is then only a backstop.
HAETAE_CHECKPOINT_ON_COMMIT = _env_flag("HAETAE_CHECKPOINT_ON_COMMIT", True)
CELERY_BEAT_SCHEDULE = {
    "ledger-checkpoint": {
        "task": "evidence.tasks.ledger_checkpoint_task",
        "schedule": float(os.environ.get("HAETAE_CHECKPOINT_INTERVAL_SECONDS", "300")),
        "options": {"queue": "ingest"},
    },
}

# Detection pipeline (docs/detection.md)
# Called inside each ingest batch's transaction with the new items; detection queues their runs there and
# sends the tasks when the batch commits. Evidence does not import detection: the wiring lives here.
HAETAE_INGEST_HOOKS = [
    "detection.pipeline.detection_enqueue_ingested",
    "search.services.search_index_ingested",
]
HAETAE_DETECT_ON_INGEST = _env_flag("HAETAE_DETECT_ON_INGEST", True)
# Source readers for `ingest --as KIND` (evidence.hooks, docs/sources.md); `--as auto` tries them in order.
HAETAE_SOURCE_KINDS = {
    "telegram": "sources.readers.telegram",
    "ufdr": "sources.readers.ufdr",
    "kakaotalk": "sources.readers.kakaotalk",
    "extraction": "sources.readers.extraction",
}
# Entered around a command's whole ingest: without a broker, detection of the new items runs on every core
# once the ingest has finished (detection.pool), instead of item by item in the one process.
HAETAE_INGEST_SCOPES = ["detection.pool.detection_after_ingest"]
# Worker processes of `ingest` and `detect` without a broker; 0 = one per core, 1 = in the command's process.
HAETAE_DETECT_WORKERS = int(os.environ.get("HAETAE_DETECT_WORKERS") or 0)
# Detector factories that are not installed packages ("module:factory", comma-separated).
HAETAE_EXTRA_DETECTORS = [
    spec.strip() for spec in os.environ.get("HAETAE_EXTRA_DETECTORS", "").split(",") if spec.strip()
]
# Detectors (by name) never queued automatically; `manage.py detect --detector NAME` still runs them.
HAETAE_DETECTORS_DISABLED = [
    name.strip() for name in os.environ.get("HAETAE_DETECTORS_DISABLED", "").split(",") if name.strip()
]
# onnxruntime intra-op threads; 0 = onnxruntime's default (every core). Worker processes use 1 unless set.
HAETAE_ONNX_THREADS = int(os.environ.get("HAETAE_ONNX_THREADS") or 0)
HAETAE_ONNX_THREADS_EXPLICIT = bool(os.environ.get("HAETAE_ONNX_THREADS"))
# Attempts per run (task retries with exponential backoff, and redeliveries after a worker died).
HAETAE_DETECT_MAX_ATTEMPTS = int(os.environ.get("HAETAE_DETECT_MAX_ATTEMPTS") or 4)
HAETAE_DETECT_RETRY_BACKOFF_SECONDS = int(os.environ.get("HAETAE_DETECT_RETRY_BACKOFF_SECONDS") or 15)
# An item's task stops a detector after this long (Celery soft time limit); its run fails with a message.
HAETAE_DETECT_TIME_LIMIT_SECONDS = int(os.environ.get("HAETAE_DETECT_TIME_LIMIT_SECONDS") or 3600)
# A task whose worker died unacknowledged is redelivered after this many seconds (Redis); longer than the
# time limit above, or a slow task is delivered twice (harmless: runs are idempotent, but work is wasted).
_visibility_timeout = int(
    os.environ.get("HAETAE_BROKER_VISIBILITY_TIMEOUT") or HAETAE_DETECT_TIME_LIMIT_SECONDS + 600
)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _visibility_timeout,
    "unacked_restore_interval": max(1, min(10, _visibility_timeout // 10)),
    "unacked_restore_throttle": 1 if _visibility_timeout < 600 else 10,
}
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Pool processes load every detector's models before reporting ready (detection.tasks); Celery's default of
# 4 s would kill a process still loading them.
CELERY_WORKER_PROC_ALIVE_TIMEOUT = int(os.environ.get("HAETAE_WORKER_START_TIMEOUT_SECONDS") or 120)

# Ingest limits for archives (zip bombs): see docs/ingest.md.
HAETAE_INGEST = {
    "MAX_ARCHIVE_DEPTH": int(os.environ.get("HAETAE_MAX_ARCHIVE_DEPTH", "5")),
    "MAX_COMPRESSION_RATIO": int(os.environ.get("HAETAE_MAX_COMPRESSION_RATIO", "1000")),
    "MAX_ARCHIVE_EXPANDED_BYTES": int(
        os.environ.get("HAETAE_MAX_ARCHIVE_EXPANDED_BYTES", str(256 * 1024**3))
    ),
    "MAX_ARCHIVE_MEMBERS": int(os.environ.get("HAETAE_MAX_ARCHIVE_MEMBERS", "1000000")),
    # The whole tree under one top-level archive expands to at most this many times the archive's own
    # size (photos and videos barely compress; chat databases and logs 5-10x), but never less than the floor.
    "MAX_ARCHIVE_TREE_RATIO": int(os.environ.get("HAETAE_MAX_ARCHIVE_TREE_RATIO", "50")),
    "ARCHIVE_TREE_FLOOR_BYTES": int(os.environ.get("HAETAE_ARCHIVE_TREE_FLOOR_BYTES", str(1024**3))),
}


# Takedown requests overdue after this many days without an answer (docs/victim-support.md)
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
    "SupportStatusEnum": "support.choices.SupportStatus",
    "TakedownStatusEnum": "support.choices.TakedownStatus",
    "ConsentKindEnum": "support.choices.ConsentKind",
    "LinkSourceEnum": "parties.choices.LinkSource",  # also a filter named "source" (cases)
}
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    **SPECTACULAR_SETTINGS.get("ENUM_NAME_OVERRIDES", {}),  # type: ignore[dict-item]
    **_SUPPORT_ENUMS,
}
# Explicit-content (NudeNet) and face detectors
# A face within this Euclidean distance of a victim's reference embedding is suggested (dlib's standard 0.6).
HAETAE_FACE_MATCH_MAX_DISTANCE = float(os.environ.get("HAETAE_FACE_MATCH_MAX_DISTANCE", "0.6"))
# AI-provenance detectors
# A PEM file of C2PA trust anchors (root certificates). Without one, a manifest whose signature and bindings
# check out is reported "valid, signer not trusted"; the file's SHA-256 is part of the detector version.
HAETAE_C2PA_TRUST_ANCHORS = os.environ.get("HAETAE_C2PA_TRUST_ANCHORS", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("HAETAE_LOG_LEVEL", "WARNING")},
}

# Django-filter (its browsable-API form templates) and API enum names
INSTALLED_APPS += ["django_filters"]
_enum_names = SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})  # other blocks may add theirs
assert isinstance(_enum_names, dict)
_enum_names.update(
    {
        "CaseStatusEnum": "access.choices.CaseStatus",
        "ItemStatusEnum": "evidence.choices.ItemStatus",
        "ItemKindEnum": "evidence.choices.ItemKind",
        "PersonKindEnum": "parties.choices.PersonKind",
        "LegalAuthorityKindEnum": "access.choices.LegalAuthorityKind",
        "ItemPersonRelationEnum": "parties.choices.ItemPersonRelation",
        "PersonChannelRelationEnum": "parties.choices.PersonChannelRelation",
        "LinkSourceEnum": "parties.choices.LinkSource",
        "CallerRoleEnum": "access.choices.CALLER_ROLE_CHOICES",
        "CaseMemberRoleEnum": "access.choices.CaseMemberRole",
        "ProcedureDocumentKindEnum": "records.choices.ProcedureDocumentKind",
        "UnrelatedDisposalKindEnum": "records.choices.UnrelatedDisposalKind",
    }
)
# Staff sign-in (TOTP via django-otp, throttling via django-axes), break-glass, previews
# Both protections are on unless HAETAE_LOCAL_TRIAL is; switching either off is reported by a system check
# (haetae.W001, haetae.W002) on every runserver/check/migrate. See docs/access.md.
# The trial is not DEBUG: debug pages list URL patterns and settings to whoever hits an error.
HAETAE_LOCAL_TRIAL = _env_flag("HAETAE_LOCAL_TRIAL", False)
if HAETAE_LOCAL_TRIAL:
    from haetae.local_trial import check_hosts

    check_hosts(ALLOWED_HOSTS)
HAETAE_REQUIRE_TOTP = _env_flag("HAETAE_REQUIRE_TOTP", not HAETAE_LOCAL_TRIAL)
HAETAE_LOGIN_THROTTLE = _env_flag("HAETAE_LOGIN_THROTTLE", not HAETAE_LOCAL_TRIAL)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "haetae.local_trial.LocalTrialMiddleware",
)
TEMPLATES[0]["OPTIONS"]["context_processors"].append("haetae.local_trial.local_trial")  # type: ignore[index]
INSTALLED_APPS[INSTALLED_APPS.index("django.contrib.admin")] = "haetae.admin_site.HaetaeAdminConfig"
INSTALLED_APPS += ["django_otp", "django_otp.plugins.otp_totp", "django_otp.plugins.otp_static", "axes"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
MIDDLEWARE.append("axes.middleware.AxesMiddleware")  # last, as django-axes requires
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses locked-out sign-ins before the password is checked
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = HAETAE_LOGIN_THROTTLE
AXES_FAILURE_LIMIT = int(os.environ.get("HAETAE_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = int(os.environ.get("HAETAE_LOGIN_COOLOFF_MINUTES", "15")) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
OTP_TOTP_ISSUER = "Haetae"
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [
    "accounts.authentication.HashedTokenAuthentication",
    "haetae.auth.OTPSessionAuthentication",
]
# API tokens: only their SHA-256 is stored; each expires (docs/api.md).
HAETAE_API_TOKEN_DAYS = int(os.environ.get("HAETAE_API_TOKEN_DAYS", "30"))
HAETAE_API_TOKEN_MAX_DAYS = int(os.environ.get("HAETAE_API_TOKEN_MAX_DAYS", "365"))
HAETAE_BREAK_GLASS_MAX_MINUTES = int(os.environ.get("HAETAE_BREAK_GLASS_MAX_MINUTES", "240"))
# The most pixels any decoder produces from one image or video frame (pixel bombs): 64 MP covers every
# phone camera's default output (48-64 MP sensors; 200 MP sensors save 12-50 MP unless switched to full
# mode, and a full 200 MP JPEG still decodes at half scale where a detector needs fewer pixels) and keeps a
# detection worker under 1 GiB: 64 MP is 192 MB as RGB, and a subject holds at most a few such copies.
HAETAE_MAX_IMAGE_PIXELS = int(os.environ.get("HAETAE_MAX_IMAGE_PIXELS", str(64_000_000)))
HAETAE_PREVIEW_MAX_SOURCE_BYTES = int(os.environ.get("HAETAE_PREVIEW_MAX_SOURCE_BYTES", str(256 * 1024**2)))
# Hash matching
# PDQ distance (0–31) at or below which items in two different cases are recorded as a match; banks carry
# their own threshold (docs/hash-banks.md).
PDQ_ITEM_THRESHOLD = int(os.environ.get("HAETAE_PDQ_ITEM_THRESHOLD", "31"))
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    **dict(SPECTACULAR_SETTINGS.get("ENUM_NAME_OVERRIDES") or {}),  # type: ignore[call-overload]
    "HashBankKindEnum": "detection.models.banks.HashBankKind",
}
# Video frame sampling (docs/detectors/video.md) and ONNX model packs (docs/model-packs.md)
HAETAE_VIDEO = {
    "FRAME_INTERVAL_MS": int(os.environ.get("HAETAE_VIDEO_FRAME_INTERVAL_MS", "1000")),
    "KEYFRAMES_ONLY": _env_flag("HAETAE_VIDEO_KEYFRAMES_ONLY", False),
    "MAX_FRAMES": int(os.environ.get("HAETAE_VIDEO_MAX_FRAMES", "300")),
    "DECODER_THREADS": int(os.environ.get("HAETAE_VIDEO_DECODER_THREADS", "1")),
    # Sampled frames kept for the other detectors of the same item when they fit (decode once).
    "SHARE_BYTES": int(os.environ.get("HAETAE_VIDEO_SHARE_BYTES", str(256 * 1024**2))),
    # PNG frames held between analysis and storage; a video whose frames exceed it is decoded again to store.
    "FRAME_BUFFER_BYTES": int(os.environ.get("HAETAE_VIDEO_FRAME_BUFFER_BYTES", str(256 * 1024**2))),
}
# Pack files live in DATA_DIR / "models" / "<sha256>.onnx" (read-only).
HAETAE_MODEL_PACKS = {
    "MAX_MODEL_BYTES": int(os.environ.get("HAETAE_MODEL_PACK_MAX_BYTES", str(2 * 1024**3))),
}
# Report signing (docs/reports-signing.md)
# The agency's document-signing certificate and key (PEM). Without both, reports are signed by a self-signed
# development signer made under DATA_DIR/keys/ on first use, and each says on its cover it is not for court.
HAETAE_SIGNER_CERT_FILE = os.environ.get("HAETAE_SIGNER_CERT_FILE", "")
HAETAE_SIGNER_KEY_FILE = os.environ.get("HAETAE_SIGNER_KEY_FILE", "")
HAETAE_SIGNER_KEY_PASSPHRASE_FILE = os.environ.get("HAETAE_SIGNER_KEY_PASSPHRASE_FILE", "")
# The issuing CA certificates (PEM, intermediates then root): embedded in signatures; the root is the trust
# anchor `pdf_signature_check` uses.
HAETAE_SIGNER_CHAIN_FILE = os.environ.get("HAETAE_SIGNER_CHAIN_FILE", "")
# An RFC 3161 timestamp authority (PAdES B-T); empty: no timestamp, and signing never touches the network.
HAETAE_SIGNER_TSA_URL = os.environ.get("HAETAE_SIGNER_TSA_URL", "")
# The development signer's key lies unencrypted under DATA_DIR/keys/, beside the vault: anyone who copies the
# data directory can sign as it. It is allowed in the embedded default (SQLite) and with HAETAE_DEBUG; a
# production deployment (any other database, debug off) refuses it unless explicitly opted in.
HAETAE_ALLOW_DEVELOPMENT_SIGNER = _env_flag(
    "HAETAE_ALLOW_DEVELOPMENT_SIGNER",
    DEBUG or DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3",
)
# Exhibits, reports and export bundles API
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    **dict(SPECTACULAR_SETTINGS.get("ENUM_NAME_OVERRIDES") or {}),  # type: ignore[call-overload]
    "ExhibitStatusEnum": "exhibits.choices.ExhibitStatus",
    "ReportStatusEnum": "exhibits.choices.ReportStatus",
}

# Reports (exhibit report PDFs)
# NanumGothic.ttf and NanumGothicBold.ttf, embedded in every report (Debian/Ubuntu: fonts-nanum).
HAETAE_REPORT_FONT_DIR = Path(os.environ.get("HAETAE_REPORT_FONT_DIR") or "/usr/share/fonts/truetype/nanum")
# Navigation by role, error pages for the portal's refusals
TEMPLATES[0]["OPTIONS"]["context_processors"].append("portal.navigation.nav_areas")  # type: ignore[index]
MIDDLEWARE.append("portal.middleware.HaetaeErrorMiddleware")
# Trusted timestamps (RFC 3161): the authorities asked in turn (comma separated; the first that answers with a
# token that verifies wins), the trust anchor their tokens must chain to (PEM: the TSA's certificate or its
# CA), and how long one request may take. Without a URL nothing is timestamped and reports say so.
HAETAE_TSA_URL = [url.strip() for url in os.environ.get("HAETAE_TSA_URL", "").split(",") if url.strip()]
HAETAE_TSA_CERT_FILE = os.environ.get("HAETAE_TSA_CERT_FILE", "")
HAETAE_TSA_TIMEOUT_SECONDS = float(os.environ.get("HAETAE_TSA_TIMEOUT_SECONDS", "10"))
# At most one checkpoint timestamp request per authority in this many seconds (0: no limit). Checkpoints are
# made on every commit; a checkpoint skipped for the limit is covered by the next one that is timestamped
# (it extends it), and the beat job timestamps the newest checkpoint that has no token.
HAETAE_TSA_MIN_INTERVAL_SECONDS = float(os.environ.get("HAETAE_TSA_MIN_INTERVAL_SECONDS", "0"))
# Capture of reported URLs (docs/captures.md): Debian's Chromium driven by Playwright, and the limits of one
# capture. Private, loopback and reserved addresses are refused unless HAETAE_CAPTURE_ALLOW_PRIVATE is on (an
# operator's choice for closed networks, and the tests' local site).
HAETAE_CHROMIUM = os.environ.get("HAETAE_CHROMIUM", "/usr/bin/chromium")
HAETAE_CAPTURE_TIMEOUT_SECONDS = float(os.environ.get("HAETAE_CAPTURE_TIMEOUT_SECONDS", "60"))
HAETAE_CAPTURE_MAX_BYTES = int(os.environ.get("HAETAE_CAPTURE_MAX_BYTES", str(100 * 1024**2)))
HAETAE_CAPTURE_MAX_RESOURCES = int(os.environ.get("HAETAE_CAPTURE_MAX_RESOURCES", "500"))
HAETAE_CAPTURE_MAX_REDIRECTS = int(os.environ.get("HAETAE_CAPTURE_MAX_REDIRECTS", "10"))
HAETAE_CAPTURE_SCROLL_STEPS = int(os.environ.get("HAETAE_CAPTURE_SCROLL_STEPS", "30"))
HAETAE_CAPTURE_ALLOW_PRIVATE = _env_flag("HAETAE_CAPTURE_ALLOW_PRIVATE", False)
# Certificates the browser accepts though no public CA vouches for them (a closed network's own servers, the
# tests' local https site): base64 SHA-256 hashes of their SubjectPublicKeyInfo, comma-separated, handed to
# Chromium as --ignore-certificate-errors-spki-list. Every other certificate error still fails the capture,
# and capture.json names the pins in force.
HAETAE_CAPTURE_ACCEPT_SPKI = [
    pin.strip() for pin in os.environ.get("HAETAE_CAPTURE_ACCEPT_SPKI", "").split(",") if pin.strip()
]
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    **dict(SPECTACULAR_SETTINGS.get("ENUM_NAME_OVERRIDES") or {}),  # type: ignore[call-overload]
    "CaptureStatusEnum": "captures.choices.CaptureStatus",
}

# Search and the case timeline (docs/search.md, docs/timeline.md)
# A time with no zone (EXIF without OffsetTimeOriginal) is placed on the timeline as if in this zone.
HAETAE_TIMELINE_ASSUMED_ZONE = os.environ.get("HAETAE_TIMELINE_ASSUMED_ZONE", "Asia/Seoul")
try:
    zoneinfo.ZoneInfo(HAETAE_TIMELINE_ASSUMED_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError) as _zone_error:
    raise ImproperlyConfigured(
        f"HAETAE_TIMELINE_ASSUMED_ZONE={HAETAE_TIMELINE_ASSUMED_ZONE!r} is not a time zone name "
        "(e.g. Asia/Seoul, UTC)"
    ) from _zone_error

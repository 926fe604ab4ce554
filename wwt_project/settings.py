"""WWT settings: one module. Everything that differs between a laptop, CI and
production comes from environment variables; operators' options from config.yml.

Embedded default (nothing set): SQLite under var/, a file-system Celery broker,
e-mail written as files to var/mail/. DATABASE_URL switches to PostgreSQL, REDIS_URL to Redis.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .config import ConfigError, load_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("WWT_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"environment variable {name} must be true or false, got {value!r}")


# GENERAL ----------------------------------------------------------------------
DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
    SECRET_KEY = "insecure-dev-only-key-set-DJANGO_SECRET_KEY-in-production"  # noqa: S105
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

# Operators' configuration (config.yml) ------------------------------------------
try:
    WWT = load_config(os.environ.get("WWT_CONFIG") or None)
except ConfigError as exc:
    raise ImproperlyConfigured(f"invalid WWT configuration: {exc}") from exc
# The passphrase Unified sends: the environment wins over config.yml.
WWT_ACTIONS_KEY = os.environ.get("WWT_ACTIONS_KEY") or WWT["actions"]["key"]

# APPS ------------------------------------------------------------------------
INSTALLED_APPS = [
    # First: its createsuperuser (which marks the address verified) replaces django.contrib.auth's.
    "accounts",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_celery_beat",
    "django_celery_results",
    "workflows",
    "errors",
    "actions",
    "clustering",
    "wwt_project.pages",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "wwt_project.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "wwt_project.middleware.RejectNulInQueryMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "wwt_project.middleware.DatabaseUnavailableMiddleware",
]

if not DEBUG:
    # runserver serves static files in development; WhiteNoise does it in production.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "wwt_project.urls"
WSGI_APPLICATION = "wwt_project.wsgi.application"

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
                "errors.context_processors.last_refresh",
            ],
        },
    },
]

# DATABASE --------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    # Connections are closed after each request by default (WWT_DB_CONN_MAX_AGE=0): persistent
    # ones pile up idle, one per thread of every process, until PostgreSQL's max_connections.
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=int(os.environ.get("WWT_DB_CONN_MAX_AGE", "0")),
            conn_health_checks=True,
        )
    }
    # A database that is down or frozen answers 503 in seconds instead of hanging requests:
    # connecting gives up after WWT_DB_CONNECT_TIMEOUT s, a statement after WWT_DB_STATEMENT_TIMEOUT
    # s (0 = no limit; give the Celery worker a longer one if its statements need it).
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    _db_options.setdefault("connect_timeout", int(os.environ.get("WWT_DB_CONNECT_TIMEOUT", "5")))
    _statement_ms = int(float(os.environ.get("WWT_DB_STATEMENT_TIMEOUT", "30")) * 1000)
    _db_options["options"] = f"-c statement_timeout={_statement_ms} " + _db_options.get("options", "")
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "wwt.sqlite3",
            # The web server, worker and beat share the file: WAL lets readers run
            # beside the single writer, IMMEDIATE avoids lock-upgrade deadlocks.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Job locks (ingestion, reclustering) on SQLite are files here (PostgreSQL uses advisory locks).
WWT_LOCK_DIR = Path(os.environ.get("WWT_LOCK_DIR", VAR_DIR / "locks"))

# CACHE -----------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
# Seconds to wait for Redis (cache and broker) before treating it as down.
REDIS_TIMEOUT = float(os.environ.get("WWT_REDIS_TIMEOUT", "2"))
if REDIS_URL:
    # Fails soft: with Redis down pages render uncached and logins are not rate limited.
    CACHES = {
        "default": {
            "BACKEND": "wwt_project.cache.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT},
        }
    }
else:
    # A file cache is shared by the web server and the worker, unlike locmem.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# AUTH ------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "errors:home"
LOGOUT_REDIRECT_URL = "errors:home"

# django-allauth (https://docs.allauth.org/en/latest/account/configuration.html)
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
# Stored as typed, looked up case-insensitively: also works for `createsuperuser` names.
ACCOUNT_PRESERVE_USERNAME_CASING = True
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[WWT] "
# Clicking the link in the browser that signed up also logs the operator in.
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
# Reverse proxies in front of WWT that append to X-Forwarded-For (1 behind the usual TLS proxy):
# the rate limits count the address the outermost one saw, not the proxy's own.
WWT_TRUSTED_PROXY_COUNT = int(os.environ.get("WWT_TRUSTED_PROXY_COUNT", "0"))

# E-MAIL ----------------------------------------------------------------------
# Files under var/mail/ for the demo; a production server sends by SMTP unless told otherwise.
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    f"django.core.mail.backends.{'filebased' if DEBUG else 'smtp'}.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
# A hung SMTP server must not hang the sign-up request.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
DEFAULT_FROM_EMAIL = f"{WWT['webmaster']['name']} <{WWT['webmaster']['email']}>"
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# I18N ------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# STATIC ----------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("WWT_STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# SECURITY (production: DJANGO_DEBUG=false) ------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    # Unified's client follows no redirects: its endpoints are never redirected.
    SECURE_REDIRECT_EXEMPT = [r"^getaction$", r"^reportaction$", r"^api/getaction$", r"^api/reportaction$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
X_FRAME_OPTIONS = "DENY"

# DRF -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "wwt_project.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "WWT API",
    "DESCRIPTION": "Actions for Unified (getaction / reportaction), action submission, and the pages "
    "as data (?format=json).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The pages that also answer JSON (plain Django views) are added by hand.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "wwt_project.page_schema.add_data_pages",
    ],
}

# CELERY ----------------------------------------------------------------------
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A task a killed worker held becomes visible again after this long (it was an hour).
        # Tasks are idempotent and guarded by job locks, so a task still running when this
        # passes is refused harmlessly as a duplicate.
        "visibility_timeout": int(os.environ.get("WWT_CELERY_VISIBILITY_TIMEOUT", "300")),
        "socket_connect_timeout": REDIS_TIMEOUT,
        "socket_timeout": REDIS_TIMEOUT,
    }
else:
    # A broker that needs no server: queues are files under var/celery.
    _queue_dir = VAR_DIR / "celery" / "queue"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
    (VAR_DIR / "celery" / "control").mkdir(parents=True, exist_ok=True)
CELERY_TASK_ALWAYS_EAGER = env_bool("WWT_CELERY_EAGER", False)
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_TRACK_STARTED = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_SOFT_TIME_LIMIT = 30 * 60
CELERY_TASK_TIME_LIMIT = 35 * 60
# Acknowledge a task when it ends, not when it starts, and give it back to the queue when
# its pool child dies (the OOM killer): the task runs again instead of being lost.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# With the broker down, sending a task fails within about a second instead of hanging.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE

# Default beat entries (name -> task, schedule). `manage.py install_schedules`
# creates the missing ones only, so an admin's edits in Django admin survive.
# Cron help: https://crontab.guru
WWT_PERIODIC_TASKS = {
    "refresh current errors": {"task": "errors.tasks.refresh_errors", "every_minutes": 30},
    "update error history": {"task": "errors.tasks.update_history", "every_minutes": 60},
    "recluster workflows": {"task": "clustering.tasks.recluster", "every_minutes": 1440},
    "train action predictor": {"task": "clustering.tasks.train_predictor", "every_minutes": 1440},
}

# LOGGING ---------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("WWT_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

"""All settings, read from the environment. Embedded default: PostgreSQL started by the project
itself (config/embedded_postgres), Celery tasks inline."""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF

from config import embedded_postgres
from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# The development key only ever signs sessions on a developer's own machine;
# production.py refuses to start without DJANGO_SECRET_KEY.
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = env_bool("DJANGO_DEBUG", True)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "csp",
    "pgtrigger",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.microsoft",
    "allauth.socialaccount.providers.openid_connect",
    "classrooms",
    "units",
    "assessments",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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

# PostgreSQL only: DATABASE_URL in CI and production, else the embedded server for trying and
# developing (its data in .postgres/ of the checkout).
DATABASES = {
    "default": (
        embedded_postgres.database_settings()
        if embedded_postgres.is_used()
        else dj_database_url.parse(env_str("DATABASE_URL"))
    )
    | {"CONN_MAX_AGE": env_int("DJANGO_CONN_MAX_AGE", 0)}
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "classrooms.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Email (invitations, "forgot password"): through the SMTP server DJANGO_EMAIL_HOST names;
# without one (the embedded default) each message is printed in the terminal instead.
EMAIL_HOST = env_str("DJANGO_EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("DJANGO_EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "Thinslice <thinslice@localhost>")
# How long a "forgot password" link works; an invitation link works as long (a week by default).
PASSWORD_RESET_TIMEOUT = env_int("DJANGO_PASSWORD_RESET_TIMEOUT_SECONDS", 7 * 24 * 3600)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# The embedded default serves static files straight from the apps, no collectstatic step.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an anonymous request is told to authenticate (401), not forbidden.
        "classrooms.signin.credentials.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Bodies are JSON (415 otherwise): a form encoding cannot carry the score rows' lists or a
    # null, so the schema would promise requests that can never be right. POST /api/token/
    # keeps DRF's own parsers (a form post of a username and password works there too).
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "config.api.PageNumbers",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "config.api.service_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Thinslice API",
    "DESCRIPTION": (
        "Districts, classrooms, units with their thin-slice assessment plans, and scores. "
        "Every list and lookup is scoped to what the caller's roles allow."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api_schema.add_error_responses",
    ],
}

# Without a broker (the embedded default) tasks run inline in the calling process.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL == ""
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# With acks late, the message of a task whose worker died (the whole machine, not only a pool
# process) stays unacknowledged in Redis; it is delivered again once it has been so for
# CELERY_VISIBILITY_TIMEOUT seconds, which must exceed the longest task plus its countdown.
# Workers look for such messages every CELERY_UNACKED_RESTORE_INTERVAL seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10),
    "unacked_restore_throttle": 1,
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# Exports: files of exports too big to stream (more rows than THINSLICE_EXPORT_ASYNC_ROWS; 0 means
# always stream) are written here by a Celery task and can be downloaded for a limited time.
THINSLICE_EXPORT_DIR = env_str("THINSLICE_EXPORT_DIR", str(BASE_DIR / "exports"))
THINSLICE_EXPORT_ASYNC_ROWS = env_int("THINSLICE_EXPORT_ASYNC_ROWS", 200_000)
THINSLICE_EXPORT_TTL_HOURS = env_int("THINSLICE_EXPORT_TTL_HOURS", 24)
# A job writes this many classroom units per transaction and saves its progress after each.
THINSLICE_EXPORT_JOB_BATCH = env_int("THINSLICE_EXPORT_JOB_BATCH", 200)
# A job that met a transient database error is tried again after this, doubling each time.
THINSLICE_EXPORT_RETRY_SECONDS = float(env_str("THINSLICE_EXPORT_RETRY_SECONDS", "5"))

# A burst of score changes to one class is rebuilt once, this many seconds after the first.
THINSLICE_GROWTH_DEBOUNCE_SECONDS = float(env_str("THINSLICE_GROWTH_DEBOUNCE_SECONDS", "5"))
CELERY_BEAT_SCHEDULE = {
    "growth-rebuild-stale": {
        "task": "reports.tasks.growth_rebuild_stale_task",
        "schedule": env_int("THINSLICE_GROWTH_CATCH_UP_SECONDS", 600),
    },
    "export-files-expire": {
        "task": "reports.tasks.export_files_expire_task",
        "schedule": crontab(minute=15),
    },
    # Nightly, one set-based task rebuilds everything (group memberships change without scores).
    "growth-rebuild-full": {
        "task": "reports.tasks.growth_rebuild_task",
        "schedule": crontab(hour=2, minute=30),
    },
    # Nightly, after the full rebuild: delete learner data past each district's retention period.
    # The task lives in reports/tasks.py under its first name (see there).
    "retention-purge": {
        "task": "classrooms.tasks.retention_purge_task",
        "schedule": crontab(hour=3, minute=15),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_personal_data": {"()": "config.log_redaction.RedactPersonalDataFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_personal_data"]},
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false", "redact_personal_data"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own loggers come with handlers of their own, which would bypass the redaction:
        # they go through the console handler above instead (and mail admins, as by default).
        "django": {"handlers": ["mail_admins"], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # SQL statements with their parameters (names of students) are never logged.
        "django.db.backends": {"handlers": [], "level": "INFO", "propagate": True},
        # The embedded server's start and stop, command by command: only its problems.
        "pgserver": {"level": "WARNING"},
    },
}

# --- Hardening: logins, content security, caching, request sizes, logs ----------------------

# Login attempts (django-axes): after AXES_FAILURE_LIMIT failures for one username from one
# address, that pair is refused for the cool-off period, even with the right password; a
# successful login clears the count. Per username *and* address: a school's teachers share one
# address behind its router, so one person's typing must not lock out the building, and nobody
# elsewhere can lock a teacher out. The same rule guards /login/, the set-up admin and API tokens.
AUTHENTICATION_BACKENDS = [
    "config.lockout.LoginAttemptsBackend",
    # Usernames are unique per district: it resolves the district before the password.
    "classrooms.authentication.DistrictAccountBackend",
]
# Single sign-on (django-allauth): each district's admin configures its providers in the set-up
# pages (classrooms.SignInProvider), never in settings. Sign-in only matches people the district
# already has; it never creates an account (classrooms/signin/sso.py).
ACCOUNT_ADAPTER = "classrooms.signin.sso.ThinsliceAccountAdapter"
SOCIALACCOUNT_ADAPTER = "classrooms.signin.sso.DistrictSocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_QUERY_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
# API tokens expire this many days after they were issued (POST /api/token/ gives a new one).
THINSLICE_API_TOKEN_DAYS = env_int("THINSLICE_API_TOKEN_DAYS", 30)
# Sessions end when the browser closes (shared school computers), and after this many idle
# minutes in any case.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = env_int("THINSLICE_SESSION_IDLE_MINUTES", 8 * 60) * 60
SESSION_SAVE_EVERY_REQUEST = True
# auth.W004 says USERNAME_FIELD is not unique: on purpose, it is unique per district (a
# constraint on User), and DistrictAccountBackend resolves the district.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
AXES_FAILURE_LIMIT = env_int("DJANGO_AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("DJANGO_AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.lockout.lockout_response"
# Spraying: one address trying one wrong password on this many usernames within the window is
# refused that password for every username until the window passes (classrooms/signin/).
THINSLICE_SPRAY_USERNAMES = env_int("THINSLICE_SPRAY_USERNAMES", 4)
THINSLICE_SPRAY_WINDOW_MINUTES = env_int("THINSLICE_SPRAY_WINDOW_MINUTES", 15)
# Behind a reverse proxy every request comes from the proxy: set how many proxies append to
# X-Forwarded-For, so that each login attempt is counted against its real address.
THINSLICE_TRUSTED_PROXY_COUNT = env_int("DJANGO_TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "config.lockout.client_address"
# Failed attempts are kept (they are the count); successful logins are not logged per person.
AXES_DISABLE_ACCESS_LOG = True
# Its models would appear only in Django's default admin site, which this project does not route.
AXES_ENABLE_ADMIN = False

# Content-Security-Policy (django-csp): everything from this origin, nothing from anyone else,
# no inline script or style. The API's Swagger page alone relaxes it (config/api_docs.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    }
}

# Request sizes. A JSON or form body may be up to 5 MB: the bulk score API's 5000 rows take at
# most 0.8 MB, pretty-printed. A file upload may be up to 50 MB (the OneRoster zip, whose own
# check in classrooms/oneroster/reading.py names the same limit), plus room for the form
# around it.
# config.middleware.RequestSizeLimitMiddleware answers anything bigger with a clear 413 (or 400
# for too many fields) before any view reads it.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5_000_000
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
DATA_UPLOAD_MAX_NUMBER_FILES = 10
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # larger uploads are spooled to a temporary file
THINSLICE_MAX_UPLOAD_FILE_BYTES = 50_000_000
THINSLICE_MAX_UPLOAD_REQUEST_BYTES = THINSLICE_MAX_UPLOAD_FILE_BYTES + 1_000_000

# Error reports (when ADMINS is set) carry no form fields or local variables: either may hold
# a student's name. DEBUG pages on a developer's machine still show them.
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.log_redaction.PersonalDataReporterFilter"

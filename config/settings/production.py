"""Production: everything from base, hardened. Secrets have no default here."""

import dj_database_url

from config.env import env_bool, env_int, env_str

from .base import *  # noqa: F403
from .base import DATABASES, STORAGES

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
# Never the embedded server (it is for trying and developing): production names its own.
DATABASES["default"] = dj_database_url.parse(env_str("DATABASE_URL")) | {
    "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"]
}
DEBUG = False
STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
WHITENOISE_USE_FINDERS = False
WHITENOISE_AUTOREFRESH = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

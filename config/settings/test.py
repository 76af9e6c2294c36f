"""Test settings: only what makes the suite faster."""

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Tests call tasks inline; the tests about the worker send to a real worker explicitly.
CELERY_TASK_ALWAYS_EAGER = True

"""The Celery app. Each Django app's tasks.py is discovered; settings come from CELERY_*."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("thinslice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

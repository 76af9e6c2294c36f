"""The exports' settings, read when they are needed (so a test's ``settings`` fixture applies).

Each is a Django setting (config/settings/base.py reads it from the environment); where a
settings module leaves one out, the environment variable of the same name is read through
``config.env``, and last the default here.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from django.conf import settings

from config.env import env_int, env_str

DEFAULT_ASYNC_ROWS = 200_000
DEFAULT_TTL_HOURS = 24
# A job writes this many classroom units per transaction and saves its progress after each.
DEFAULT_JOB_BATCH_CLASSROOM_UNITS = 200
DEFAULT_RETRY_SECONDS = 5.0


def export_directory() -> Path:
    """THINSLICE_EXPORT_DIR: where jobs write their files (default BASE_DIR/exports)."""
    configured = getattr(settings, "THINSLICE_EXPORT_DIR", None) or env_str(
        "THINSLICE_EXPORT_DIR", ""
    )
    return Path(configured) if configured else Path(settings.BASE_DIR) / "exports"


def export_async_rows() -> int:
    """THINSLICE_EXPORT_ASYNC_ROWS: above this many rows an export runs as a job (0: never)."""
    configured = getattr(settings, "THINSLICE_EXPORT_ASYNC_ROWS", None)
    if configured is None:
        return env_int("THINSLICE_EXPORT_ASYNC_ROWS", DEFAULT_ASYNC_ROWS)
    return int(configured)


def export_ttl() -> datetime.timedelta:
    """THINSLICE_EXPORT_TTL_HOURS: how long a job's file may be downloaded (default 24 h)."""
    configured = getattr(settings, "THINSLICE_EXPORT_TTL_HOURS", None)
    if configured is None:
        configured = env_int("THINSLICE_EXPORT_TTL_HOURS", DEFAULT_TTL_HOURS)
    return datetime.timedelta(hours=float(configured))


def export_job_batch_classroom_units() -> int:
    """THINSLICE_EXPORT_JOB_BATCH: classroom units a job writes per transaction (default 200)."""
    configured = getattr(settings, "THINSLICE_EXPORT_JOB_BATCH", None)
    if configured is None:
        return env_int("THINSLICE_EXPORT_JOB_BATCH", DEFAULT_JOB_BATCH_CLASSROOM_UNITS)
    return int(configured)


def export_retry_seconds() -> float:
    """THINSLICE_EXPORT_RETRY_SECONDS: the wait before a job that met a transient database
    error is tried again, doubled at each retry (default 5 s)."""
    configured = getattr(settings, "THINSLICE_EXPORT_RETRY_SECONDS", None)
    if configured is None:
        configured = env_str("THINSLICE_EXPORT_RETRY_SECONDS", str(DEFAULT_RETRY_SECONDS))
    return float(configured)

"""Settings come from the environment; production refuses to start half-configured."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    clean_env.update(env)
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION_DATABASE = "postgres://thinslice@db.example.org:5432/thinslice"


def test_production_without_a_database_url_stops_with_a_clear_message():
    """Production never falls back to the embedded server, which is for trying and developing."""
    result = _manage(
        "check",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(60),
        DATABASE_URL="",
    )
    assert result.returncode != 0
    assert "The environment variable DATABASE_URL must be set" in result.stderr


def test_production_without_secret_key_stops_with_a_clear_message():
    result = _manage("check", DJANGO_SETTINGS_MODULE="config.settings.production")
    assert result.returncode != 0
    assert "The environment variable DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_settings_pass_the_deploy_checks_without_warnings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(60),
        DJANGO_ALLOWED_HOSTS="thinslice.example.org",
        DATABASE_URL=PRODUCTION_DATABASE,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_misspelt_boolean_setting_is_refused():
    result = _manage("check", DJANGO_DEBUG="maybe")
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be true or false" in result.stderr


def test_openapi_schema_is_valid():
    result = _manage("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull)
    assert result.returncode == 0, result.stderr

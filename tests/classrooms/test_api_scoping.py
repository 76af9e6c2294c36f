"""Tenancy through the API: every list and detail route, for every role; writes that must refuse.

Expected rows come from tests/classrooms/test_access.py (``expected_ids``), which computes them
from the world without the ORM scoping.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from assessments.models import Score
from classrooms.models import (
    AcademicYear,
    Classroom,
    District,
    Enrollment,
    School,
    Student,
    StudentGroup,
    Term,
    User,
)
from reports.models import ExportJob
from tests import factories
from tests.classrooms.test_access import KNOWN_BUGS, USER_KEYS, expected_ids, world_for_module
from tests.conftest import World
from units.models import Assessment, AssessmentSkill, ClassroomUnit, Skill, Unit

DENIED_ANONYMOUS = (401, 403)
SIGNED_OUT = ("anonymous", "inactive")  # an inactive account's session signs nobody in


@dataclass(frozen=True)
class Route:
    """One API resource and, for it, a user of each kind (keys of ``world.users``).

    right: sees the rows of school a1 / district A; wrong: same district, a role that does not
    reach those rows; other: a user of district B.
    """

    model: type[models.Model]
    right: str
    wrong: str
    other: str


# Every router basename under /api/ (a route missing here fails test_every_api_route_is_tested).
ROUTES: dict[str, Route] = {
    # district-wide reference rows: every member of the district, even without a role
    "district": Route(District, right="no_role_a", wrong="inactive", other="teacher_b1"),
    "academic-year": Route(AcademicYear, right="no_role_a", wrong="inactive", other="teacher_b1"),
    "term": Route(Term, right="no_role_a", wrong="inactive", other="teacher_b1"),
    "student-group": Route(StudentGroup, right="no_role_a", wrong="inactive", other="teacher_b1"),
    "unit": Route(Unit, right="teacher_a1", wrong="inactive", other="teacher_b1"),
    # schools: coached or taught in
    "school": Route(School, right="coach_a1", wrong="no_role_a", other="coach_b1"),
    # rows seen through a classroom
    "classroom": Route(Classroom, right="teacher_a1", wrong="teacher_a2", other="admin_b"),
    "enrollment": Route(Enrollment, right="coach_a1", wrong="coach_a2", other="admin_b"),
    "classroom-unit": Route(ClassroomUnit, right="teacher_a1", wrong="coach_a2", other="admin_b"),
    "score": Route(Score, right="teacher_a1", wrong="teacher_a2", other="teacher_b1"),
    "student": Route(Student, right="teacher_a1", wrong="teacher_a2", other="admin_b"),
    # accounts: a district admin sees the district's, everyone else only their own
    "user": Route(User, right="admin_a", wrong="teacher_a1", other="admin_b"),
    # export jobs: the requester and the district's admins
    "export-job": Route(ExportJob, right="teacher_a1", wrong="coach_a1", other="admin_b"),
}


def _row_of_a1(world: World, basename: str) -> models.Model:
    """A row of school a1 / district A that the route's ``right`` user sees."""
    a1_rows = {
        "district": world.districts["a"],
        "academic-year": world.classrooms["a1"].term.academic_year,
        "term": world.classrooms["a1"].term,
        "student-group": StudentGroup.objects.get(name="English learners a"),
        "unit": world.units["a"],
        "school": world.schools["a1"],
        "classroom": world.classrooms["a1"],
        "enrollment": world.enrollments["a1"],
        "classroom-unit": world.classroom_units["a1"],
        "score": world.scores["a1"],
        "student": world.students["a1"],
        "user": world.users["coach_a1"],
        "export-job": ExportJob.objects.all_schools().get(requested_by=world.users["teacher_a1"]),
    }
    return a1_rows[basename]


@pytest.fixture(scope="module")
def module_world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    yield from world_for_module(django_db_blocker)


@pytest.fixture
def people(module_world: World, db: Any) -> World:
    return module_world


def client_for(world: World, user_key: str) -> APIClient:
    """A client signed in with a session (force_login), or anonymous."""
    client = APIClient()
    if user_key != "anonymous":
        client.force_login(world.users[user_key])
    return client


def list_ids(client: APIClient, url: str) -> set[int]:
    """All ids of a paginated list, following ``next``."""
    ids: set[int] = set()
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        ids |= {item["id"] for item in body["results"]}
        url = body["next"]
    return ids


def _api_route_names() -> set[str]:
    """Names of the URL patterns under api/ that end in -list or -detail."""
    names: set[str] = set()

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and pattern.name:
                if route.lstrip("^").startswith("api/") and pattern.name.endswith(
                    ("-list", "-detail")
                ):
                    names.add(pattern.name)

    walk(get_resolver().url_patterns, "")
    return names


def _route_user_params() -> list[Any]:
    params = []
    for basename, route in ROUTES.items():
        for user_key in USER_KEYS:
            bug = KNOWN_BUGS.get((user_key, route.model))
            # Anonymous and inactive callers are refused before any queryset is built.
            if bug and user_key not in SIGNED_OUT:
                marks = [pytest.mark.xfail(strict=True, reason=bug)]
            else:
                marks = []
            param_id = f"{basename}-{user_key}"
            params.append(pytest.param(basename, user_key, id=param_id, marks=marks))
    return params


# ---------------------------------------------------------------------------------------------
# Every route is in the table.
# ---------------------------------------------------------------------------------------------


def test_every_api_route_is_tested() -> None:
    names = _api_route_names()

    assert names == {f"{basename}-{kind}" for basename in ROUTES for kind in ("list", "detail")}


# ---------------------------------------------------------------------------------------------
# Reads: anonymous, other district, wrong role, right role.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("basename", list(ROUTES))
def test_anonymous_gets_no_list_and_no_detail(people: World, basename: str) -> None:
    client = APIClient()
    row = _row_of_a1(people, basename)

    assert client.get(reverse(f"{basename}-list")).status_code in DENIED_ANONYMOUS
    assert client.get(reverse(f"{basename}-detail", args=[row.pk])).status_code in (
        DENIED_ANONYMOUS
    )


@pytest.mark.parametrize("basename", list(ROUTES))
def test_other_districts_user_neither_lists_nor_opens_district_a_rows(
    people: World, basename: str
) -> None:
    route = ROUTES[basename]
    client = client_for(people, route.other)
    row = _row_of_a1(people, basename)

    listed = list_ids(client, reverse(f"{basename}-list"))

    assert listed == expected_ids(people, route.other, route.model)
    assert not listed & expected_ids(people, "admin_a", route.model)
    assert client.get(reverse(f"{basename}-detail", args=[row.pk])).status_code == 404


@pytest.mark.parametrize("basename", list(ROUTES))
def test_wrong_role_neither_lists_nor_opens_the_row(people: World, basename: str) -> None:
    route = ROUTES[basename]
    client = client_for(people, route.wrong)
    row = _row_of_a1(people, basename)
    list_response = client.get(reverse(f"{basename}-list"))

    if route.wrong == "inactive":
        # A deactivated account's session no longer signs anyone in.
        assert list_response.status_code in DENIED_ANONYMOUS
        return
    assert list_ids(client, reverse(f"{basename}-list")) == expected_ids(
        people, route.wrong, route.model
    )
    assert row.pk not in expected_ids(people, route.wrong, route.model)
    assert client.get(reverse(f"{basename}-detail", args=[row.pk])).status_code == 404


@pytest.mark.parametrize("basename", list(ROUTES))
def test_right_role_lists_exactly_visible_rows_and_opens_the_row(
    people: World, basename: str
) -> None:
    route = ROUTES[basename]
    client = client_for(people, route.right)
    row = _row_of_a1(people, basename)

    assert list_ids(client, reverse(f"{basename}-list")) == expected_ids(
        people, route.right, route.model
    )
    response = client.get(reverse(f"{basename}-detail", args=[row.pk]))
    assert response.status_code == 200
    assert response.json()["id"] == row.pk


@pytest.mark.parametrize(("basename", "user_key"), _route_user_params())
def test_api_lists_and_opens_exactly_the_visible_rows_for_every_user(
    people: World, basename: str, user_key: str
) -> None:
    route = ROUTES[basename]
    client = client_for(people, user_key)
    expected = expected_ids(people, user_key, route.model)
    if user_key in SIGNED_OUT:
        assert client.get(reverse(f"{basename}-list")).status_code in DENIED_ANONYMOUS
        return

    assert list_ids(client, reverse(f"{basename}-list")) == expected
    for pk in route.model._base_manager.values_list("pk", flat=True):
        status = client.get(reverse(f"{basename}-detail", args=[pk])).status_code
        assert status == (200 if pk in expected else 404), f"{route.model.__name__} {pk}"


def test_score_filter_by_classroom_unit_stays_inside_the_scope(people: World) -> None:
    client = client_for(people, "admin_a")
    other_district_classroom_unit = people.classroom_units["b1"]

    listed = list_ids(
        client, f"{reverse('score-list')}?classroom_unit={other_district_classroom_unit.pk}"
    )

    assert listed == set()


# ---------------------------------------------------------------------------------------------
# Token authentication.
# ---------------------------------------------------------------------------------------------


def test_token_authenticates_and_is_scoped_like_a_session(people: World) -> None:
    token = Token.objects.create(user=people.users["teacher_a1"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    assert list_ids(client, reverse("classroom-list")) == {people.classrooms["a1"].pk}
    assert list_ids(client, reverse("score-list")) == {people.scores["a1"].pk}
    other = client.get(reverse("classroom-detail", args=[people.classrooms["b1"].pk]))
    assert other.status_code == 404
    own = client.get(reverse("classroom-detail", args=[people.classrooms["a1"].pk]))
    assert own.status_code == 200


def test_token_of_another_district_opens_nothing_in_district_a(people: World) -> None:
    token = Token.objects.create(user=people.users["admin_b"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.get(reverse("student-detail", args=[people.students["a1"].pk]))

    assert response.status_code == 404
    assert list_ids(client, reverse("student-list")) == expected_ids(people, "admin_b", Student)


def test_unknown_token_is_401(people: World) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert client.get(reverse("classroom-list")).status_code == 401


def test_token_of_inactive_user_is_401(people: World) -> None:
    token = Token.objects.create(user=people.users["inactive"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    assert client.get(reverse("classroom-list")).status_code == 401


# ---------------------------------------------------------------------------------------------
# Writes: units.
# ---------------------------------------------------------------------------------------------

PLAN_MODELS: tuple[type[models.Model], ...] = (Unit, Skill, Assessment, AssessmentSkill)


def plan_counts() -> dict[str, int]:
    return {model.__name__: model._base_manager.count() for model in PLAN_MODELS}


def unit_body(title: str = "Decimals", **extra: Any) -> dict[str, Any]:
    """A valid UnitInputSerializer body: skills D.1 and D.2, a pre, one formative and a post."""
    measures = [
        {"skill_code": "D.1", "max_points": "4"},
        {"skill_code": "D.2", "max_points": "6"},
    ]
    return {
        "title": title,
        "subject": "Math",
        "grade_level": "5",
        "weeks": 8,
        "skills": [{"code": "D.1", "description": "Place value"}, {"code": "D.2"}],
        "assessments": [
            {"kind": "pre", "week": 1, "title": "Pre", "measures": measures},
            {"kind": "formative", "week": 4, "title": "Check week 4", "measures": measures},
            {"kind": "post", "week": 8, "title": "Post", "measures": measures},
        ],
        **extra,
    }


def test_district_admin_creates_a_unit_in_their_own_district(people: World) -> None:
    client = client_for(people, "admin_a")
    before = plan_counts()

    response = client.post(reverse("unit-list"), unit_body(), format="json")

    assert response.status_code == 201, response.content
    unit = Unit.objects.all_schools().get(pk=response.json()["id"])
    assert unit.district_id == people.districts["a"].pk
    assert sorted(unit.skills.values_list("code", flat=True)) == ["D.1", "D.2"]
    assert sorted(unit.assessments.values_list("kind", flat=True)) == ["formative", "post", "pre"]
    assert plan_counts() == {
        "Unit": before["Unit"] + 1,
        "Skill": before["Skill"] + 2,
        "Assessment": before["Assessment"] + 3,
        "AssessmentSkill": before["AssessmentSkill"] + 6,
    }


@pytest.mark.parametrize("user_key", ["coach_a1", "no_role_a"])
def test_only_a_district_admin_or_a_teacher_may_create_a_unit(people: World, user_key: str) -> None:
    client = client_for(people, user_key)
    before = plan_counts()

    response = client.post(reverse("unit-list"), unit_body(), format="json")

    assert response.status_code == 403
    assert plan_counts() == before


def test_teacher_writes_a_unit_of_their_own_unless_the_district_keeps_unit_writing(
    people: World,
) -> None:
    client = client_for(people, "teacher_a1")
    district = people.districts["a"]
    district.teachers_write_units = False
    district.save(update_fields=["teachers_write_units"])
    before = plan_counts()

    refused = client.post(reverse("unit-list"), unit_body(), format="json")

    assert refused.status_code == 403
    assert plan_counts() == before

    district.teachers_write_units = True
    district.save(update_fields=["teachers_write_units"])
    created = client.post(reverse("unit-list"), unit_body(), format="json")

    assert created.status_code == 201
    assert created.json()["version"] == 1
    unit = Unit.objects.all_schools().get(pk=created.json()["id"])
    assert unit.lineage.author == people.users["teacher_a1"]
    assert not unit.lineage.is_shared


def test_anonymous_cannot_create_a_unit(people: World) -> None:
    before = plan_counts()

    response = APIClient().post(reverse("unit-list"), unit_body(), format="json")

    assert response.status_code in DENIED_ANONYMOUS
    assert plan_counts() == before


@pytest.mark.parametrize(("user_key", "district_key"), [("admin_a", "b"), ("admin_b", "a")])
def test_district_admin_cannot_create_a_unit_in_another_district(
    people: World, user_key: str, district_key: str
) -> None:
    client = client_for(people, user_key)
    before = plan_counts()
    body = unit_body(district=people.districts[district_key].pk)

    response = client.post(reverse("unit-list"), body, format="json")

    assert response.status_code == 400
    assert "district" in response.json()
    assert plan_counts() == before


def test_platform_operator_creates_a_unit_in_the_district_they_name(people: World) -> None:
    client = client_for(people, "superuser")

    body = unit_body(district=people.districts["b"].pk)
    response = client.post(reverse("unit-list"), body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["district"] == people.districts["b"].pk


def test_district_admin_cannot_change_another_districts_unit(people: World) -> None:
    client = client_for(people, "admin_a")
    unit_b = people.units["b"]
    before = plan_counts()

    body = unit_body(title="Taken over")
    response = client.put(reverse("unit-detail", args=[unit_b.pk]), body, format="json")

    assert response.status_code == 404
    assert Unit.objects.all_schools().get(pk=unit_b.pk).title == unit_b.title
    assert plan_counts() == before


def test_teacher_cannot_change_their_districts_unit(people: World) -> None:
    client = client_for(people, "teacher_a1")
    unit_a = people.units["a"]
    before = plan_counts()

    body = unit_body(title="Renamed by a teacher")
    response = client.put(reverse("unit-detail", args=[unit_a.pk]), body, format="json")

    assert response.status_code == 403
    assert Unit.objects.all_schools().get(pk=unit_a.pk).title == unit_a.title
    assert plan_counts() == before


# ---------------------------------------------------------------------------------------------
# Writes: classroom units.
# ---------------------------------------------------------------------------------------------

# user, classroom (school key), unit ("new" = a fresh district A unit, "b" = district B's), status
CLASSROOM_UNIT_STARTS = [
    pytest.param("teacher_a1", "a1", "new", 201, id="own-teacher-201"),
    pytest.param("admin_a", "a2", "new", 201, id="district-admin-201"),
    pytest.param("coach_a1", "a1", "new", 403, id="coach-of-the-school-403"),
    pytest.param("no_role_a", "a1", "new", 400, id="no-role-classroom-not-visible-400"),
    pytest.param("teacher_a2", "a1", "new", 400, id="other-school-teacher-400"),
    pytest.param("teacher_a1", "b1", "new", 400, id="other-district-classroom-400"),
    pytest.param("admin_a", "b1", "new", 400, id="admin-other-district-classroom-400"),
    pytest.param("teacher_a1", "a1", "b", 400, id="other-district-unit-400"),
    pytest.param("teacher_b1", "a1", "new", 400, id="other-district-teacher-400"),
]


@pytest.mark.parametrize(("user_key", "classroom_key", "unit_key", "status"), CLASSROOM_UNIT_STARTS)
def test_starting_a_classroom_unit_by_role(
    people: World, user_key: str, classroom_key: str, unit_key: str, status: int
) -> None:
    unit = (
        factories.make_unit(people.districts["a"], title="Decimals")
        if unit_key == "new"
        else people.units[unit_key]
    )
    classroom = people.classrooms[classroom_key]
    client = client_for(people, user_key)
    before = ClassroomUnit._base_manager.count()
    body = {"classroom": classroom.pk, "unit": unit.pk, "start_date": "2027-01-04"}

    response = client.post(reverse("classroom-unit-list"), body, format="json")

    assert response.status_code == status, response.content
    if status == 201:
        assert ClassroomUnit._base_manager.count() == before + 1
        assert ClassroomUnit._base_manager.filter(classroom=classroom, unit=unit).exists()
    else:
        assert ClassroomUnit._base_manager.count() == before
        assert not ClassroomUnit._base_manager.filter(classroom=classroom, unit=unit).exists()


def test_anonymous_cannot_start_a_classroom_unit(people: World) -> None:
    unit = factories.make_unit(people.districts["a"], title="Decimals")
    before = ClassroomUnit._base_manager.count()
    body = {"classroom": people.classrooms["a1"].pk, "unit": unit.pk, "start_date": "2027-01-04"}

    response = APIClient().post(reverse("classroom-unit-list"), body, format="json")

    assert response.status_code in DENIED_ANONYMOUS
    assert ClassroomUnit._base_manager.count() == before

"""Two schools in one district plus a school in another district, each with its people.

``world`` holds, per school key ('a1', 'a2' in district A; 'b1' in district B): a classroom with
its teacher, a coach, an enrolled student, a unit taught there and a score. District admins
'admin_a' and 'admin_b' see their whole district.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from celery.app.task import Task
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessments.models import Score
from config import embedded_postgres
from tests import factories


def pytest_sessionstart(session: pytest.Session) -> None:
    """On the embedded server, a data folder of another PostgreSQL version stops the run with
    what to do, before any test tries to connect."""
    if embedded_postgres.is_used():
        try:
            embedded_postgres.check_data_dir_version(embedded_postgres.data_dir())
        except embedded_postgres.DataFolderVersionMismatch as mismatch:
            pytest.exit(str(mismatch), returncode=1)


@dataclass
class World:
    districts: dict[str, Any] = field(default_factory=dict)
    schools: dict[str, Any] = field(default_factory=dict)
    classrooms: dict[str, Any] = field(default_factory=dict)
    students: dict[str, Any] = field(default_factory=dict)
    enrollments: dict[str, Any] = field(default_factory=dict)
    units: dict[str, Any] = field(default_factory=dict)
    classroom_units: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, Any] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)


def build_world() -> World:
    world = World()
    for district_key in ("a", "b"):
        district = factories.DistrictFactory(name=f"District {district_key.upper()}")
        world.districts[district_key] = district
        world.units[district_key] = factories.make_unit(district, title=f"Fractions {district_key}")
        admin = factories.UserFactory(
            username=f"admin_{district_key}", district=district, is_district_admin=True
        )
        world.users[f"admin_{district_key}"] = admin
        factories.StudentGroupFactory(district=district, name=f"English learners {district_key}")
        # An unenrolled student: only the district admin may see them.
        world.students[f"unenrolled_{district_key}"] = factories.StudentFactory(district=district)
    for school_key in ("a1", "a2", "b1"):
        district = world.districts[school_key[0]]
        school = factories.SchoolFactory(district=district, name=f"School {school_key}")
        teacher = factories.UserFactory(username=f"teacher_{school_key}", district=district)
        coach = factories.UserFactory(username=f"coach_{school_key}", district=district)
        school.coaches.add(coach)
        classroom = factories.ClassroomFactory(school=school, name=f"Class {school_key}")
        classroom.teachers.add(teacher)
        enrollment = factories.EnrollmentFactory(classroom=classroom)
        unit = world.units[school_key[0]]
        classroom_unit = factories.ClassroomUnitFactory(classroom=classroom, unit=unit)
        assessment_skill = unit.assessments.get(kind="pre").assessment_skills.first()
        score = Score.objects.create(
            classroom_unit=classroom_unit,
            student=enrollment.student,
            assessment_skill=assessment_skill,
            points=Decimal("3"),
            entered_by=teacher,
            entered_at=timezone.now(),
        )
        world.schools[school_key] = school
        world.classrooms[school_key] = classroom
        world.students[school_key] = enrollment.student
        world.enrollments[school_key] = enrollment
        world.classroom_units[school_key] = classroom_unit
        world.scores[school_key] = score
        world.users[f"teacher_{school_key}"] = teacher
        world.users[f"coach_{school_key}"] = coach
    world.users["no_role_a"] = factories.UserFactory(
        username="no_role_a", district=world.districts["a"]
    )
    return world


@pytest.fixture
def world(db: Any) -> World:
    return build_world()


@pytest.fixture
def district_a(world: World) -> Any:
    return world.districts["a"]


@pytest.fixture
def teacher(world: World) -> Any:
    return world.users["teacher_a1"]


@pytest.fixture
def coach(world: World) -> Any:
    return world.users["coach_a1"]


@pytest.fixture
def admin_a(world: World) -> Any:
    return world.users["admin_a"]


StatementCapture = Callable[[], AbstractContextManager[list[str]]]


@pytest.fixture
def statements_as_in_production(django_capture_on_commit_callbacks: Any) -> StatementCapture:
    """``with statements_as_in_production() as statements:`` lists the SQL a block sends the
    way production sends it.

    A test runs inside a transaction that never commits, so what a service defers with
    ``transaction.on_commit`` (marking growth stale after a save) would never run and a count
    would miss it: the callbacks are run here, inside the count. Tasks they hand to Celery are
    recorded, not run: tests run tasks inline, production runs them later in a worker, not in
    the request. Savepoints are left out: they come from the test's own transaction (a service's
    outermost ``atomic`` sends no SAVEPOINT in production).
    """

    @contextmanager
    def capture() -> Iterator[list[str]]:
        statements: list[str] = []
        with (
            CaptureQueriesContext(connection) as captured,
            mock.patch.object(Task, "apply_async"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            yield statements
        statements += [
            query["sql"] for query in captured.captured_queries if "SAVEPOINT" not in query["sql"]
        ]

    return capture

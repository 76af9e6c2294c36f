"""Two schools in one district plus a school in another district, each with its people.

``world`` holds, per school key ('a1', 'a2' in district A; 'b1' in district B): a classroom with
its teacher, a coach, an enrolled student, a unit taught there and a score. District admins
'admin_a' and 'admin_b' see their whole district.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
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

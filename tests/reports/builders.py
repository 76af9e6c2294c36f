"""Small hand-made districts with scores, for the growth summary and report page tests.

Every unit made here has skills A (max 4) and B (max 6), so a student's percentage on an
assessment is (A + B) × 10 when both are scored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Model
from django.utils import timezone

from assessments.models import Score, ScoreStatus
from classrooms.models import Classroom, District, School, Student, StudentGroup
from reports.models import (
    ClassroomUnitGrowthSummary,
    DistrictUnitGrowthSummary,
    SchoolUnitGrowthSummary,
    StudentGrowth,
)
from tests import factories
from units.models import AssessmentSkill, ClassroomUnit, Unit

# (A points, B points), or "absent" for the whole assessment.
Result = tuple[float, float] | str


@dataclass
class GrowthWorld:
    district: District
    unit: Unit
    groups: dict[str, StudentGroup] = field(default_factory=dict)
    schools: dict[str, School] = field(default_factory=dict)
    classrooms: dict[str, Classroom] = field(default_factory=dict)
    classroom_units: dict[str, ClassroomUnit] = field(default_factory=dict)
    students: dict[str, Student] = field(default_factory=dict)


def growth_world(
    *,
    minimum_n: int,
    layout: Mapping[str, Mapping[str, Sequence[Any]]],
    groups: Sequence[str] = ("EL",),
    district_name: str = "Growth District",
) -> GrowthWorld:
    """A district whose ``layout`` is school → classroom → students.

    Each student is (name, groups, pre, post) with pre/post as (A, B) points or "absent".
    """
    district = factories.DistrictFactory(name=district_name, minimum_n=minimum_n)
    world = GrowthWorld(district=district, unit=factories.make_unit(district, title="Fractions"))
    for group_name in groups:
        world.groups[group_name] = factories.StudentGroupFactory(district=district, name=group_name)
    for school_name, classrooms in layout.items():
        school = factories.SchoolFactory(district=district, name=school_name)
        world.schools[school_name] = school
        for classroom_name, students in classrooms.items():
            classroom = factories.ClassroomFactory(school=school, name=classroom_name)
            classroom_unit = factories.ClassroomUnitFactory(classroom=classroom, unit=world.unit)
            world.classrooms[classroom_name] = classroom
            world.classroom_units[classroom_name] = classroom_unit
            for name, member_of, pre, post in students:
                enrollment = factories.EnrollmentFactory(
                    classroom=classroom,
                    student__district=district,
                    student__given_name=name,
                    student__family_name=f"Family {name}",
                )
                student = enrollment.student
                student.groups.set([world.groups[group] for group in member_of])
                world.students[name] = student
                enter(classroom_unit, student, "pre", pre)
                enter(classroom_unit, student, "post", post)
    return world


def enter(classroom_unit: ClassroomUnit, student: Student, kind: str, result: Result) -> None:
    """Record (or replace) one student's A and B scores on the pre or the post."""
    for code, position in (("A", 0), ("B", 1)):
        measure = AssessmentSkill.objects.get(
            assessment__unit=classroom_unit.unit, assessment__kind=kind, skill__code=code
        )
        if result == "absent":
            values: dict[str, Any] = {"status": ScoreStatus.ABSENT, "points": None}
        else:
            assert not isinstance(result, str)
            values = {"status": ScoreStatus.SCORED, "points": Decimal(str(result[position]))}
        Score.objects.update_or_create(
            classroom_unit=classroom_unit,
            student=student,
            assessment_skill=measure,
            defaults={**values, "entered_at": timezone.now()},
        )


_SUMMARY_MODELS: tuple[tuple[type[Model], tuple[str, ...]], ...] = (
    (ClassroomUnitGrowthSummary, ("classroom_unit_id",)),
    (SchoolUnitGrowthSummary, ("school_id", "unit_id")),
    (DistrictUnitGrowthSummary, ("district_id", "unit_id")),
)
_SKIPPED = {"id", "built_at"}


def summaries_snapshot() -> dict[tuple[Any, ...], dict[str, Any]]:
    """Every stored summary row by (model, node, group, part), with floats rounded to 9 places,
    so two builds can be compared."""
    snapshot = {}
    for model, node_fields in _SUMMARY_MODELS:
        for row in model._default_manager.all_schools().values():  # type: ignore[attr-defined]
            key = (
                model.__name__,
                *(row[name] for name in node_fields),
                row["student_group_id"],
                row["part"],
            )
            snapshot[key] = {
                name: _rounded(value) for name, value in row.items() if name not in _SKIPPED
            }
    return snapshot


def students_snapshot() -> dict[tuple[int, int], dict[str, Any]]:
    return {
        (row["classroom_unit_id"], row["student_id"]): {
            name: _rounded(value)
            for name, value in row.items()
            if name not in {"id", "built_at", "slope_per_week"}
        }
        | {"slope_per_week": _rounded(row["slope_per_week"])}
        for row in StudentGrowth.objects.all_schools().values()
    }


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value

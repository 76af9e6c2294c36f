"""Stored student growth rows, built from scores by a service that Celery runs."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.utils import timezone

from assessments.models import Score, ScoreStatus
from reports.models import GrowthBuild, StudentGrowth
from reports.tasks import classroom_unit_growth_rebuild_task
from tests import factories
from tests.celery_worker import celery_worker_queue  # noqa: F401  (fixture)
from units.models import AssessmentSkill


def _class_with_scores():
    """Three students in a unit with skills A (max 4) and B (max 6).

    - Ada: pre 2+3 = 5/10 = 50%, post 4+5 = 9/10 = 90% → gain 40, g = 0.8, target met.
    - Ben: absent at pre → incomplete.
    - Cy: enrolled, nothing entered yet → incomplete.
    """
    district = factories.DistrictFactory()
    unit = factories.make_unit(district)
    classroom = factories.ClassroomFactory(school__district=district)
    classroom_unit = factories.ClassroomUnitFactory(classroom=classroom, unit=unit)
    students = {}
    for name in ("Ada", "Ben", "Cy"):
        enrollment = factories.EnrollmentFactory(
            classroom=classroom, student__given_name=name, student__district=district
        )
        students[name] = enrollment.student

    def enter(student, kind, code, points=None, status=ScoreStatus.SCORED):
        Score.objects.create(
            classroom_unit=classroom_unit,
            student=student,
            assessment_skill=AssessmentSkill.objects.get(
                assessment__unit=unit, assessment__kind=kind, skill__code=code
            ),
            status=status,
            points=None if points is None else Decimal(points),
            entered_at=timezone.now(),
        )

    enter(students["Ada"], "pre", "A", "2")
    enter(students["Ada"], "pre", "B", "3")
    enter(students["Ada"], "post", "A", "4")
    enter(students["Ada"], "post", "B", "5")
    enter(students["Ben"], "pre", "A", status=ScoreStatus.ABSENT)
    enter(students["Ben"], "pre", "B", status=ScoreStatus.ABSENT)
    enter(students["Ben"], "post", "A", "3")
    return classroom_unit, students


def _growth_by_name(classroom_unit) -> dict[str, StudentGrowth]:
    rows = StudentGrowth.objects.filter(classroom_unit=classroom_unit).select_related("student")
    return {row.student.given_name: row for row in rows}


@pytest.mark.django_db
def test_rebuild_stores_growth_for_every_enrolled_student():
    classroom_unit, _ = _class_with_scores()
    written = classroom_unit_growth_rebuild_task(classroom_unit.pk)
    assert written == 3
    growth = _growth_by_name(classroom_unit)
    ada = growth["Ada"]
    assert (ada.pre_percentage, ada.post_percentage) == (50.0, 90.0)
    assert ada.gain == pytest.approx(40.0)
    assert ada.normalized_gain == pytest.approx(0.8)
    assert ada.is_target_met is True
    assert ada.is_complete is True
    assert growth["Ben"].is_complete is False
    assert growth["Ben"].pre_percentage is None
    assert growth["Ben"].post_percentage == pytest.approx(75.0)
    assert growth["Ben"].gain is None
    assert growth["Cy"].is_complete is False
    assert GrowthBuild.objects.get(classroom_unit=classroom_unit).built_at is not None


@pytest.mark.django_db
def test_rebuilding_twice_gives_the_same_rows():
    classroom_unit, _ = _class_with_scores()
    classroom_unit_growth_rebuild_task(classroom_unit.pk)
    first = list(StudentGrowth.objects.values("student_id", "pre_percentage", "gain"))
    classroom_unit_growth_rebuild_task(classroom_unit.pk)
    assert list(StudentGrowth.objects.values("student_id", "pre_percentage", "gain")) == first
    assert StudentGrowth.objects.count() == 3


@pytest.mark.celery_worker
def test_a_real_worker_over_redis_builds_the_growth_rows(celery_worker_queue):  # noqa: F811
    classroom_unit, _ = _class_with_scores()
    classroom_unit_growth_rebuild_task.apply_async(
        args=[classroom_unit.pk], queue=celery_worker_queue
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if StudentGrowth.objects.filter(classroom_unit=classroom_unit).count() == 3:
            break
        time.sleep(0.2)
    growth = _growth_by_name(classroom_unit)
    assert set(growth) == {"Ada", "Ben", "Cy"}, "the worker did not build the rows in 60 s"
    assert growth["Ada"].normalized_gain == pytest.approx(0.8)

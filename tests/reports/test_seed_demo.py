"""The demo seed: reproducible, isolated per district, every login works, plans follow the rules."""

from __future__ import annotations

import hashlib
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count
from django.test import Client

from assessments.models import Score, ScoreStatus
from classrooms.models import Classroom, District, Enrollment, School, Student, StudentGroup, User
from reports.demo import DEMO_DISTRICT_NAME, DEMO_PASSWORD
from units.models import ClassroomUnit, Unit
from units.services import assessment_plan_check, plan_of

SMALL = 60


def seed(**options: Any) -> str:
    out = io.StringIO()
    call_command("seed_demo", students=SMALL, stdout=out, **options)
    return out.getvalue()


def fingerprint(district_name: str) -> str:
    """A hash of the district's students, memberships and scores, free of database ids."""
    district = District.objects.get(name=district_name)
    students = Student.objects.filter(district=district).order_by("sis_id")
    memberships = Student.groups.through.objects.filter(student__district=district).order_by(
        "student__sis_id", "studentgroup__name"
    )
    scores = Score.objects.filter(student__district=district).order_by(
        "student__sis_id",
        "classroom_unit__classroom__school__code",
        "classroom_unit__classroom__name",
        "assessment_skill__assessment__unit__title",
        "assessment_skill__assessment__week",
        "assessment_skill__skill__code",
    )
    content = repr(
        (
            list(students.values_list("sis_id", "given_name", "family_name", "grade_level")),
            list(memberships.values_list("student__sis_id", "studentgroup__name")),
            list(
                scores.values_list(
                    "student__sis_id",
                    "classroom_unit__classroom__name",
                    "assessment_skill__assessment__title",
                    "assessment_skill__skill__code",
                    "status",
                    "points",
                )
            ),
        )
    )
    return hashlib.sha256(content.encode()).hexdigest()


def row_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (District, School, User, Student, Classroom, Enrollment, Unit, Score)
    }


@pytest.mark.django_db
def test_same_seed_gives_the_same_students_and_scores() -> None:
    seed(district="Seven A", seed=7)
    seed(district="Seven B", seed=7)
    seed(district="Eight", seed=8)

    assert fingerprint("Seven A") == fingerprint("Seven B")
    assert fingerprint("Seven A") != fingerprint("Eight")


@pytest.mark.django_db
def test_every_demo_login_signs_in_with_its_role() -> None:
    output = seed()

    for username in ("admin", "coach", "teacher"):
        assert username in output
        assert Client().login(username=username, password=DEMO_PASSWORD)
    assert "http://127.0.0.1:8000/" in output
    district = District.objects.get(name=DEMO_DISTRICT_NAME)
    admin = User.objects.get(username="admin")
    assert admin.is_district_admin
    assert admin.is_staff
    assert admin.district == district
    coach = User.objects.get(username="coach")
    assert coach.coached_schools.filter(district=district).exists()
    teacher = User.objects.get(username="teacher")
    taught = teacher.taught_classrooms.filter(school__district=district)
    assert set(taught.values_list("subject", flat=True)) == {"Math", "ELA"}
    assert Enrollment.objects.filter(classroom__in=taught).exists()
    assert Score.objects.visible_to(teacher).filter(entered_by=teacher).exists()


@pytest.mark.django_db
def test_second_district_sees_none_of_the_first() -> None:
    seed()
    output = seed(district="Northfield")

    assert "northfield-admin" in output
    riverbend = District.objects.get(name=DEMO_DISTRICT_NAME)
    northfield = District.objects.get(name="Northfield")
    for role in ("admin", "coach", "teacher"):
        user = User.objects.get(username=f"northfield-{role}")
        assert user.district == northfield
        assert Client().login(username=user.username, password=DEMO_PASSWORD)
        assert Student.objects.visible_to(user).exists()
        assert not Student.objects.visible_to(user).filter(district=riverbend).exists()
        assert not School.objects.visible_to(user).filter(district=riverbend).exists()
        assert not Classroom.objects.visible_to(user).filter(school__district=riverbend).exists()
        assert not Unit.objects.visible_to(user).filter(district=riverbend).exists()
        assert not Score.objects.visible_to(user).filter(student__district=riverbend).exists()
    riverbend_admin = User.objects.get(username="admin")
    assert (
        not Score.objects.visible_to(riverbend_admin).filter(student__district=northfield).exists()
    )


@pytest.mark.django_db
def test_demo_has_groups_absences_and_exemptions_within_the_rules() -> None:
    seed()

    group_sizes = dict(
        StudentGroup.objects.annotate(size=Count("students")).values_list("name", "size")
    )
    assert set(group_sizes) == {
        "English learners",
        "Students with IEPs",
        "Economically disadvantaged",
    }
    assert all(size > 0 for size in group_sizes.values())
    statuses = set(Score.objects.values_list("status", flat=True))
    assert statuses == {ScoreStatus.SCORED, ScoreStatus.ABSENT, ScoreStatus.EXEMPT}
    for score in Score.objects.select_related("assessment_skill"):
        if score.status == ScoreStatus.SCORED:
            assert score.points is not None
            assert Decimal(0) <= score.points <= score.assessment_skill.max_points
            assert score.points * 2 == int(score.points * 2)  # half points
        else:
            assert score.points is None
        assert score.entered_at.tzinfo is not None
        assert score.version == 1


@pytest.mark.django_db
def test_absence_covers_every_skill_of_the_assessment() -> None:
    seed()

    absent_results = set(
        Score.objects.filter(status=ScoreStatus.ABSENT).values_list(
            "classroom_unit", "student", "assessment_skill__assessment"
        )
    )
    assert absent_results
    other_statuses = Score.objects.exclude(status=ScoreStatus.ABSENT).values_list(
        "classroom_unit", "student", "assessment_skill__assessment"
    )
    assert absent_results.isdisjoint(other_statuses)


@pytest.mark.django_db
def test_demo_has_a_versioned_finished_unit_and_a_teacher_written_copy() -> None:
    seed()

    version_2 = Unit.objects.get(version=2)
    version_1 = Unit.objects.get(lineage=version_2.lineage, version=1)
    assert version_2.assessments.filter(title="Late check").exists()
    assert not version_1.assessments.filter(title="Late check").exists()
    finished = ClassroomUnit.objects.filter(unit__lineage=version_2.lineage)
    assert finished.exists() and set(finished.values_list("unit_id", flat=True)) == {version_1.pk}
    own = Unit.objects.get(lineage__author__isnull=False, lineage__is_shared=False)
    assert own.lineage.author.username.endswith("teacher")
    assert own.lineage.is_shared_in_school
    assert "two more weeks" in own.lineage.carried_reflections


@pytest.mark.django_db
def test_unit_plans_are_valid_and_in_progress_units_have_early_scores_only() -> None:
    seed()

    units = Unit.objects.all()
    assert units.filter(lineage__is_shared=True, version=1).count() == 12
    for unit in units:
        assert assessment_plan_check(unit=unit, plan=plan_of(unit)) == []
    in_progress = ClassroomUnit.objects.filter(start_date="2026-10-26")
    assert set(in_progress.values_list("unit__subject", flat=True)) == {"Math", "ELA"}
    scored_weeks = set(
        Score.objects.filter(classroom_unit__in=in_progress).values_list(
            "assessment_skill__assessment__week", flat=True
        )
    )
    assert scored_weeks == {1, 3}
    completed = ClassroomUnit.objects.filter(start_date="2026-09-07")
    assert set(
        Score.objects.filter(classroom_unit__in=completed).values_list(
            "assessment_skill__assessment__week", flat=True
        )
    ) == {1, 3, 5, 8}


@pytest.mark.django_db
def test_seeding_an_existing_district_name_fails_and_writes_nothing() -> None:
    seed()
    before = row_counts()

    with pytest.raises(CommandError, match="exists already"):
        seed()

    assert row_counts() == before


@pytest.mark.django_db
def test_if_empty_leaves_an_existing_database_alone_and_prints_the_logins() -> None:
    seed()
    before = row_counts()

    output = seed(if_empty=True, district=DEMO_DISTRICT_NAME)

    assert row_counts() == before
    assert "seeds nothing" in output
    assert "teacher" in output


@pytest.mark.django_db
def test_if_empty_seeds_an_empty_database() -> None:
    output = seed(if_empty=True)

    assert District.objects.filter(name=DEMO_DISTRICT_NAME).exists()
    assert "Elapsed" in output


@pytest.mark.django_db
def test_demo_growth_reports_are_built_as_the_demo_is_seeded() -> None:
    from reports.models import ClassroomUnitGrowthSummary, StudentGrowth

    output = seed()
    district = District.objects.get()
    enrolled_students = Enrollment.objects.filter(classroom__school__district=district).values_list(
        "student_id", flat=True
    )
    growth_students = StudentGrowth.objects.values_list("student_id", flat=True).distinct()
    assert set(growth_students) == set(enrolled_students)
    assert ClassroomUnitGrowthSummary.objects.filter(n__gt=0).exists()
    assert "Growth summaries built" in output

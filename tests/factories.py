"""factory_boy factories, one per model. Related rows default to the same district."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from assessments.models import Score, ScoreStatus
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
from units.models import Assessment, AssessmentSkill, ClassroomUnit, Skill, Unit, UnitLineage
from units.services import AssessmentSpec, MeasureSpec, PlanSpec, SkillSpec, unit_plan_save


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District

    name = factory.Sequence(lambda n: f"District {n}")
    slug = factory.Sequence(lambda n: f"district-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Staff{n}")
    district = factory.SubFactory(DistrictFactory)
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"School {n}")
    code = factory.Sequence(lambda n: f"S{n}")


class AcademicYearFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AcademicYear

    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"Year {n}")
    start_date = datetime.date(2026, 8, 17)
    end_date = datetime.date(2027, 6, 11)


class TermFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Term

    academic_year = factory.SubFactory(AcademicYearFactory)
    name = factory.Sequence(lambda n: f"Term {n}")
    start_date = datetime.date(2026, 8, 17)
    end_date = datetime.date(2027, 1, 15)


class ClassroomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Classroom

    school = factory.SubFactory(SchoolFactory)
    term = factory.SubFactory(
        TermFactory, academic_year__district=factory.SelfAttribute("...school.district")
    )
    name = factory.Sequence(lambda n: f"Math section {n}")
    subject = "Math"
    grade_level = "5"


class StudentGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StudentGroup

    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"Group {n}")


class StudentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Student

    district = factory.SubFactory(DistrictFactory)
    sis_id = factory.Sequence(lambda n: f"SIS{n:06d}")
    given_name = factory.Sequence(lambda n: f"Given{n}")
    family_name = factory.Sequence(lambda n: f"Family{n}")
    grade_level = "5"


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    classroom = factory.SubFactory(ClassroomFactory)
    student = factory.SubFactory(
        StudentFactory, district=factory.SelfAttribute("..classroom.school.district")
    )
    start_date = datetime.date(2026, 8, 17)


def valid_plan(weeks: int = 8, formative_weeks: tuple[int, ...] = (3, 5)) -> PlanSpec:
    """A small plan that follows every thin-slice rule: skills A and B."""
    measures = (
        MeasureSpec(skill_code="A", max_points=Decimal("4")),
        MeasureSpec(skill_code="B", max_points=Decimal("6")),
    )
    return PlanSpec(
        weeks=weeks,
        skills=(SkillSpec(code="A", description="Skill A"), SkillSpec(code="B")),
        assessments=(
            AssessmentSpec(kind="pre", week=1, title="Pre", measures=measures),
            *(
                AssessmentSpec(
                    kind="formative", week=week, title=f"Check week {week}", measures=measures
                )
                for week in formative_weeks
            ),
            AssessmentSpec(kind="post", week=weeks, title="Post", measures=measures),
        ),
    )


def make_unit(district: District, title: str = "Fractions", plan: PlanSpec | None = None) -> Unit:
    """A unit with a valid plan, saved through the service as a platform operator would."""
    operator = User(is_superuser=True, is_active=True)
    unit = Unit(district=district, title=title, subject="Math", grade_level="5")
    return unit_plan_save(actor=operator, unit=unit, plan=plan or valid_plan(), share=True)


class UnitLineageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UnitLineage

    district = factory.SubFactory(DistrictFactory)
    is_shared = True


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    district = factory.SubFactory(DistrictFactory)
    lineage = factory.SubFactory(UnitLineageFactory, district=factory.SelfAttribute("..district"))
    title = factory.Sequence(lambda n: f"Unit {n}")
    subject = "Math"
    grade_level = "5"


class SkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Skill

    unit = factory.SubFactory(UnitFactory)
    code = factory.Sequence(lambda n: f"SK{n}")


class AssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assessment

    unit = factory.SubFactory(UnitFactory)
    kind = "formative"
    week = 3
    title = factory.Sequence(lambda n: f"Checkpoint {n}")


class AssessmentSkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AssessmentSkill

    assessment = factory.SubFactory(AssessmentFactory)
    skill = factory.SubFactory(SkillFactory, unit=factory.SelfAttribute("..assessment.unit"))
    max_points = Decimal("4")


class ClassroomUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClassroomUnit

    classroom = factory.SubFactory(ClassroomFactory)
    unit = factory.SubFactory(UnitFactory)
    start_date = datetime.date(2026, 10, 26)


class ScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Score

    classroom_unit = factory.SubFactory(ClassroomUnitFactory)
    student = factory.SubFactory(StudentFactory)
    assessment_skill = factory.SubFactory(AssessmentSkillFactory)
    status = ScoreStatus.SCORED
    points = Decimal("3")
    entered_at = factory.LazyFunction(timezone.now)


def make_taught_class(size: int) -> tuple[Any, ClassroomUnit, Any, list[Student]]:
    """A new district's classroom with its teacher, ``size`` enrolled students and a unit in
    progress; returns (teacher, classroom unit, its pre-assessment, students)."""
    district = DistrictFactory()
    unit = make_unit(district)
    classroom = ClassroomFactory(school__district=district)
    teacher = UserFactory(district=district)
    classroom.teachers.add(teacher)
    classroom_unit = ClassroomUnitFactory(classroom=classroom, unit=unit)
    students = [
        EnrollmentFactory(classroom=classroom, student__district=district).student
        for _ in range(size)
    ]
    return teacher, classroom_unit, unit.assessments.get(kind="pre"), students

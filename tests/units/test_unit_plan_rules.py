"""The thin-slice rules for a unit's assessment plan, as a district admin meets them."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from assessments.models import Score
from assessments.unit_versions import classroom_unit_version_move
from tests import factories
from units.models import Assessment, AssessmentSkill, ClassroomUnit, Skill, Unit
from units.services import (
    AssessmentSpec,
    MeasureSpec,
    PlanSpec,
    SkillSpec,
    parse_measures,
    plan_of,
    unit_plan_save,
)

pytestmark = pytest.mark.django_db


def _save(district, plan, *, title="Fractions", actor=None):
    actor = actor or factories.UserFactory(district=district, is_district_admin=True)
    unit = Unit(district=district, title=title, subject="Math", grade_level="5")
    return unit_plan_save(actor=actor, unit=unit, plan=plan)


def _refusal(district, plan) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        _save(district, plan)
    assert not Unit.objects.filter(district=district).exists(), "a refused plan saved a unit"
    return refused.value.messages


def _without(plan: PlanSpec, kind: str) -> PlanSpec:
    return dataclasses.replace(
        plan, assessments=tuple(a for a in plan.assessments if a.kind != kind)
    )


def _with(plan: PlanSpec, *extra: AssessmentSpec) -> PlanSpec:
    return dataclasses.replace(plan, assessments=(*plan.assessments, *extra))


MEASURES_A = (MeasureSpec(skill_code="A", max_points=Decimal("4")),)


def test_valid_plan_is_saved_with_skills_and_assessments():
    district = factories.DistrictFactory()
    unit = _save(district, factories.valid_plan())
    assert sorted(Skill.objects.filter(unit=unit).values_list("code", flat=True)) == ["A", "B"]
    kinds = list(Assessment.objects.filter(unit=unit).order_by("week").values_list("kind", "week"))
    assert kinds == [("pre", 1), ("formative", 3), ("formative", 5), ("post", 8)]
    assert AssessmentSkill.objects.filter(assessment__unit=unit).count() == 8


def test_plan_without_pre_assessment_is_refused():
    messages = _refusal(factories.DistrictFactory(), _without(factories.valid_plan(), "pre"))
    assert messages == ["The plan needs a pre-assessment in week 1."]


def test_pre_assessment_outside_week_one_is_refused():
    plan = _without(factories.valid_plan(), "pre")
    plan = _with(plan, AssessmentSpec(kind="pre", week=2, title="Late pre", measures=MEASURES_A))
    messages = _refusal(factories.DistrictFactory(), plan)
    assert messages == ["The pre-assessment 'Late pre' must be in week 1 (it is in week 2)."]


def test_second_post_assessment_is_refused():
    plan = _with(
        factories.valid_plan(),
        AssessmentSpec(kind="post", week=8, title="Post again", measures=MEASURES_A),
    )
    messages = _refusal(factories.DistrictFactory(), plan)
    assert messages == [
        "A unit has exactly one post-assessment; this plan has 2 ('Post', 'Post again')."
    ]


def test_post_assessment_must_be_in_the_last_week():
    plan = dataclasses.replace(factories.valid_plan(), weeks=9)
    messages = _refusal(factories.DistrictFactory(), plan)
    assert messages == [
        "The post-assessment 'Post' must be in the unit's last week, week 9 (it is in week 8)."
    ]


def test_plan_needs_a_formative_checkpoint():
    messages = _refusal(factories.DistrictFactory(), factories.valid_plan(formative_weeks=()))
    assert messages == ["The plan needs at least one formative checkpoint."]


def test_formatives_above_the_district_cap_are_refused():
    district = factories.DistrictFactory(formative_cap=3)
    plan = factories.valid_plan(formative_weeks=(2, 3, 4, 5))
    messages = _refusal(district, plan)
    assert messages == [
        "This district allows at most 3 formative checkpoints per unit; this plan has 4."
    ]


def test_formatives_up_to_the_cap_are_accepted():
    district = factories.DistrictFactory(formative_cap=3)
    unit = _save(district, factories.valid_plan(formative_weeks=(2, 4, 6)))
    assert unit.assessments.filter(kind="formative").count() == 3


def test_formative_outside_the_unit_weeks_is_refused():
    plan = factories.valid_plan(formative_weeks=(3, 12))
    messages = _refusal(factories.DistrictFactory(), plan)
    assert messages == [
        "Formative checkpoint 'Check week 12' is in week 12, outside the unit's 8 weeks."
    ]


def test_assessment_must_measure_a_skill_of_the_unit():
    plan = _with(
        factories.valid_plan(),
        AssessmentSpec(kind="formative", week=6, title="Empty check", measures=()),
        AssessmentSpec(
            kind="formative",
            week=7,
            title="Stray check",
            measures=(MeasureSpec(skill_code="Z", max_points=Decimal("2")),),
        ),
    )
    messages = _refusal(factories.DistrictFactory(), plan)
    assert messages == [
        "'Empty check' must measure at least one of the unit's skills.",
        "'Stray check' measures 'Z', which is not one of this unit's skills (A, B).",
    ]


def test_max_points_must_be_positive_with_two_decimals_at_most():
    plan = _with(
        factories.valid_plan(),
        AssessmentSpec(
            kind="formative",
            week=6,
            title="Odd points",
            measures=(
                MeasureSpec(skill_code="A", max_points=Decimal("0")),
                MeasureSpec(skill_code="B", max_points=Decimal("2.125")),
            ),
        ),
    )
    messages = _refusal(factories.DistrictFactory(), plan)
    assert messages == [
        "'Odd points': max points for 'A' must be more than 0 and at most 9999.99.",
        "'Odd points': max points for 'B' may have at most 2 decimals.",
    ]


def test_duplicate_skill_codes_are_refused():
    plan = dataclasses.replace(
        factories.valid_plan(), skills=(SkillSpec(code="A"), SkillSpec(code="A"), SkillSpec("B"))
    )
    messages = _refusal(factories.DistrictFactory(), plan)
    assert messages == ["The skill code 'A' is used twice; skill codes must differ."]


def test_teacher_cannot_change_unit_plans():
    district = factories.DistrictFactory()
    teacher = factories.UserFactory(district=district)
    with pytest.raises(PermissionDenied):
        _save(district, factories.valid_plan(), actor=teacher)
    assert not Unit.objects.exists()


def test_admin_of_another_district_cannot_create_units_here():
    district = factories.DistrictFactory()
    other_admin = factories.UserFactory(is_district_admin=True)
    with pytest.raises(PermissionDenied):
        _save(district, factories.valid_plan(), actor=other_admin)
    assert not Unit.objects.exists()


def test_parse_measures_reads_codes_and_points_and_explains_mistakes():
    assert parse_measures("FR.1=4, FR.2 = 6.5") == (
        MeasureSpec(skill_code="FR.1", max_points=Decimal("4")),
        MeasureSpec(skill_code="FR.2", max_points=Decimal("6.5")),
    )
    with pytest.raises(ValidationError, match="has no max points"):
        parse_measures("FR.1")
    with pytest.raises(ValidationError, match="is not a number of points"):
        parse_measures("FR.1=four")


# Changing a plan that already has scores


@pytest.fixture
def scored_unit(db):
    """A unit whose pre-assessment has a 3.5-point score on skill A."""
    district = factories.DistrictFactory()
    admin = factories.UserFactory(district=district, is_district_admin=True)
    unit = _save(district, factories.valid_plan(), actor=admin)
    classroom = factories.ClassroomFactory(school__district=district)
    classroom.teachers.add(factories.UserFactory(district=district))
    classroom_unit = factories.ClassroomUnitFactory(classroom=classroom, unit=unit)
    student = factories.StudentFactory(district=district)
    pre_skill_a = AssessmentSkill.objects.get(
        assessment__unit=unit, assessment__kind="pre", skill__code="A"
    )
    factories.ScoreFactory(
        classroom_unit=classroom_unit,
        student=student,
        assessment_skill=pre_skill_a,
        points=Decimal("3.5"),
    )
    return unit, admin


def _replace_assessment(plan: PlanSpec, kind: str, **changes) -> PlanSpec:
    return dataclasses.replace(
        plan,
        assessments=tuple(
            dataclasses.replace(a, **changes) if a.kind == kind else a for a in plan.assessments
        ),
    )


def _new_version(unit, admin, plan):
    """Save ``plan`` over a scored unit: a new version, the scored one left exactly as it was."""
    before = plan_of(unit)
    version = unit_plan_save(actor=admin, unit=unit, plan=plan)
    unit.refresh_from_db()
    assert version.pk != unit.pk and version.version == unit.version + 1
    assert version.lineage_id == unit.lineage_id
    assert plan_of(unit) == before, "a scored plan changed under its class"
    assert Score.objects.get().assessment_skill.assessment.unit_id == unit.pk
    return version


def _refused_move(unit, version) -> list[str]:
    classroom_unit = ClassroomUnit.objects.get(unit=unit)
    teacher = classroom_unit.classroom.teachers.get()
    with pytest.raises(ValidationError) as refused:
        classroom_unit_version_move(actor=teacher, classroom_unit=classroom_unit)
    classroom_unit.refresh_from_db()
    assert classroom_unit.unit_id == unit.pk, "a refused move changed the class's version"
    assert Score.objects.get().assessment_skill.assessment.unit_id == unit.pk
    return refused.value.messages


def test_removing_a_scored_assessment_makes_a_version_the_class_cannot_move_to(scored_unit):
    unit, admin = scored_unit
    plan = _without(plan_of(unit), "pre")
    plan = _with(plan, AssessmentSpec(kind="pre", week=1, title="New pre", measures=MEASURES_A))
    version = _new_version(unit, admin, plan)
    assert _refused_move(unit, version) == [
        "'Pre' already has 1 score for 'A' in this class, and version 2 has no "
        "pre-assessment called 'Pre' measuring 'A'; the class keeps version 1 so no score is "
        "stranded."
    ]


def test_a_version_that_stops_measuring_a_scored_skill_strands_the_class(scored_unit):
    unit, admin = scored_unit
    plan = _replace_assessment(
        plan_of(unit),
        "pre",
        measures=(MeasureSpec(skill_code="B", max_points=Decimal("6")),),
    )
    version = _new_version(unit, admin, plan)
    assert _refused_move(unit, version) == [
        "'Pre' already has 1 score for 'A' in this class, and version 2 has no "
        "pre-assessment called 'Pre' measuring 'A'; the class keeps version 1 so no score is "
        "stranded."
    ]


def test_a_version_with_max_points_below_an_entered_score_strands_the_class(scored_unit):
    unit, admin = scored_unit
    plan = _replace_assessment(
        plan_of(unit),
        "pre",
        measures=(
            MeasureSpec(skill_code="A", max_points=Decimal("3")),
            MeasureSpec(skill_code="B", max_points=Decimal("6")),
        ),
    )
    version = _new_version(unit, admin, plan)
    assert _refused_move(unit, version) == [
        "'Pre': a score of 3.5 points has already been entered for 'A' in this class, and "
        "version 2 allows at most 3."
    ]


def test_a_class_moves_to_a_version_that_keeps_its_scores(scored_unit):
    unit, admin = scored_unit
    plan = _without(plan_of(unit), "formative")
    plan = _with(plan, AssessmentSpec(kind="formative", week=4, title="Mid", measures=MEASURES_A))
    version = _new_version(unit, admin, plan)
    classroom_unit = ClassroomUnit.objects.get(unit=unit)
    teacher = classroom_unit.classroom.teachers.get()
    classroom_unit_version_move(actor=teacher, classroom_unit=classroom_unit)
    classroom_unit.refresh_from_db()
    assert classroom_unit.unit_id == version.pk
    score = Score.objects.get()
    assert score.assessment_skill.assessment.unit_id == version.pk
    assert score.points == Decimal("3.5")
    titles = list(version.assessments.order_by("week").values_list("title", flat=True))
    assert titles == ["Pre", "Mid", "Post"]


def test_an_unscored_plan_changes_in_place_for_the_classes_that_follow_it():
    district = factories.DistrictFactory()
    admin = factories.UserFactory(district=district, is_district_admin=True)
    unit = _save(district, factories.valid_plan(), actor=admin)
    factories.ClassroomUnitFactory(classroom__school__district=district, unit=unit)
    plan = _with(
        plan_of(unit), AssessmentSpec(kind="formative", week=6, title="Late", measures=MEASURES_A)
    )
    saved = unit_plan_save(actor=admin, unit=unit, plan=plan)
    assert saved.pk == unit.pk and saved.version == 1
    assert unit.assessments.filter(title="Late").exists()


def test_an_old_version_cannot_be_edited(scored_unit):
    unit, admin = scored_unit
    _new_version(unit, admin, plan_of(unit))
    with pytest.raises(ValidationError, match="Change the latest version"):
        unit_plan_save(actor=admin, unit=unit, plan=plan_of(unit))


# What the database itself refuses


def test_database_refuses_a_second_pre_assessment():
    unit = factories.make_unit(factories.DistrictFactory())
    with pytest.raises(IntegrityError), transaction.atomic():
        Assessment.objects.create(unit=unit, kind="pre", week=1, title="Another pre")


def test_database_refuses_formative_cap_above_eight():
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.DistrictFactory(formative_cap=9)


def test_database_refuses_points_together_with_absent_status(scored_unit):
    score = Score.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Score.objects.filter(pk=score.pk).update(status="absent")

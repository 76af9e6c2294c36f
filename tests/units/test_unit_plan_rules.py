"""The thin-slice rules for a unit's assessment plan, as a district admin meets them."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from assessments.models import Score
from tests import factories
from units.models import Assessment, AssessmentSkill, Skill, Unit
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


def _refused_change(unit, admin, plan) -> list[str]:
    before = plan_of(unit)
    with pytest.raises(ValidationError) as refused:
        unit_plan_save(actor=admin, unit=unit, plan=plan)
    unit.refresh_from_db()
    assert plan_of(unit) == before, "a refused change altered the plan"
    assert Score.objects.count() == 1
    return refused.value.messages


def test_assessment_with_scores_cannot_be_removed(scored_unit):
    unit, admin = scored_unit
    plan = _without(plan_of(unit), "pre")
    plan = _with(plan, AssessmentSpec(kind="pre", week=1, title="New pre", measures=MEASURES_A))
    messages = _refused_change(unit, admin, plan)
    assert messages == [
        "'Pre' already has 1 score entered, so it cannot be removed; keep it in the plan "
        "(scores are never thrown away by a plan change)."
    ]


def test_measured_skill_with_scores_must_stay(scored_unit):
    unit, admin = scored_unit
    plan = _replace_assessment(
        plan_of(unit),
        "pre",
        measures=(MeasureSpec(skill_code="B", max_points=Decimal("6")),),
    )
    messages = _refused_change(unit, admin, plan)
    assert messages == [
        "'Pre' already has 1 score for the skill 'A', so it must keep measuring that skill."
    ]


def test_max_points_cannot_drop_below_an_entered_score(scored_unit):
    unit, admin = scored_unit
    plan = _replace_assessment(
        plan_of(unit),
        "pre",
        measures=(
            MeasureSpec(skill_code="A", max_points=Decimal("3")),
            MeasureSpec(skill_code="B", max_points=Decimal("6")),
        ),
    )
    messages = _refused_change(unit, admin, plan)
    assert messages == [
        "'Pre': a score of 3.5 points has already been entered for 'A', so its max points "
        "cannot go below that (asked for 3)."
    ]


def test_unscored_parts_of_a_scored_plan_can_still_change(scored_unit):
    unit, admin = scored_unit
    plan = _without(plan_of(unit), "formative")
    plan = _with(plan, AssessmentSpec(kind="formative", week=4, title="Mid", measures=MEASURES_A))
    plan = dataclasses.replace(
        plan,
        skills=tuple(
            dataclasses.replace(skill, code="A-renamed") if skill.code == "A" else skill
            for skill in plan.skills
        ),
        assessments=tuple(
            dataclasses.replace(
                a,
                measures=tuple(
                    dataclasses.replace(m, skill_code="A-renamed") if m.skill_code == "A" else m
                    for m in a.measures
                ),
            )
            for a in plan.assessments
        ),
    )
    unit_plan_save(actor=admin, unit=unit, plan=plan)
    titles = list(unit.assessments.order_by("week").values_list("title", flat=True))
    assert titles == ["Pre", "Mid", "Post"]
    score = Score.objects.get()
    assert score.assessment_skill.skill.code == "A-renamed", "the score follows its renamed skill"


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

"""The demo's units: per subject and grade, a completed unit and one in progress, each planned
through ``units.services.unit_plan_save`` like a district admin's.

Each unit has a pre-assessment in week 1, checkpoints in the ``CHECKPOINT_WEEKS`` and a
post-assessment in its last week; an assessment has scores once its due week has ended before
``SNAPSHOT_DATE``. What the scores need of each (measures, progress through the unit) is kept in
a ``DemoUnit``.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal

from classrooms.models import District, User
from reports.demo.shape import (
    CHECKPOINT_MAX_POINTS,
    CHECKPOINT_WEEKS,
    COMPLETED_UNIT_START,
    CURRENT_UNIT_START,
    GRADES,
    PRE_POST_MAX_POINTS,
    SKILL_DIFFICULTY_SPREAD,
    SNAPSHOT_DATE,
    SUBJECTS,
    UNIT_WEEKS,
)
from units.models import AssessmentKind, AssessmentSkill, Unit
from units.services import AssessmentSpec, MeasureSpec, PlanSpec, SkillSpec, unit_plan_save


@dataclass(frozen=True)
class UnitTemplate:
    title: str
    skills: tuple[tuple[str, str], ...]  # (code, description)


# Per subject and grade: the completed unit, then the one in progress.
UNIT_CATALOG: dict[tuple[str, str], tuple[UnitTemplate, UnitTemplate]] = {
    ("Math", "3"): (
        UnitTemplate(
            "Grade 3 Math: Multiplication and Division Within 100",
            (
                ("3.OA.1", "Interpret products of whole numbers"),
                ("3.OA.5", "Apply properties of operations to multiply and divide"),
                ("3.OA.7", "Multiply and divide fluently within 100"),
            ),
        ),
        UnitTemplate(
            "Grade 3 Math: Fractions on the Number Line",
            (
                ("3.NF.1", "Understand a fraction 1/b as one part of a whole"),
                ("3.NF.2", "Represent fractions on a number line"),
                ("3.NF.3", "Compare fractions by reasoning about their size"),
            ),
        ),
    ),
    ("Math", "4"): (
        UnitTemplate(
            "Grade 4 Math: Multi-Digit Multiplication and Division",
            (
                ("4.NBT.5", "Multiply a whole number of up to four digits by a one-digit number"),
                ("4.NBT.6", "Divide up to four-digit dividends by one-digit divisors"),
                ("4.OA.3", "Solve multistep word problems with whole numbers"),
            ),
        ),
        UnitTemplate(
            "Grade 4 Math: Fraction Equivalence and Operations",
            (
                ("4.NF.1", "Explain why fractions are equivalent"),
                ("4.NF.2", "Compare fractions with different numerators and denominators"),
                ("4.NF.3", "Add and subtract fractions with like denominators"),
            ),
        ),
    ),
    ("Math", "5"): (
        UnitTemplate(
            "Grade 5 Math: Place Value and Decimals",
            (
                ("5.NBT.1", "Recognize place value patterns in multi-digit numbers"),
                ("5.NBT.3", "Read, write and compare decimals to thousandths"),
                ("5.NBT.7", "Add, subtract, multiply and divide decimals to hundredths"),
            ),
        ),
        UnitTemplate(
            "Grade 5 Math: Adding and Subtracting Fractions",
            (
                ("5.NF.1", "Add and subtract fractions with unlike denominators"),
                ("5.NF.2", "Solve word problems involving fractions"),
                ("5.NF.4", "Multiply a fraction by a whole number or a fraction"),
            ),
        ),
    ),
    ("ELA", "3"): (
        UnitTemplate(
            "Grade 3 ELA: Stories and Their Lessons",
            (
                ("RL.3.1", "Ask and answer questions about a text"),
                ("RL.3.2", "Recount stories and find their central message"),
                ("RL.3.3", "Describe characters and how their actions shape events"),
            ),
        ),
        UnitTemplate(
            "Grade 3 ELA: Opinion Writing",
            (
                ("W.3.1", "Write opinion pieces supported by reasons"),
                ("L.3.1", "Use standard English grammar"),
                ("L.3.2", "Use capitalization, punctuation and spelling"),
            ),
        ),
    ),
    ("ELA", "4"): (
        UnitTemplate(
            "Grade 4 ELA: Myths and Themes",
            (
                ("RL.4.1", "Refer to details and examples when explaining a text"),
                ("RL.4.2", "Determine a theme from details in a text"),
                ("RL.4.3", "Describe a character, setting or event in depth"),
            ),
        ),
        UnitTemplate(
            "Grade 4 ELA: Informational Reading and Writing",
            (
                ("RI.4.2", "Determine the main idea and its supporting details"),
                ("RI.4.5", "Describe the structure of a text"),
                ("W.4.2", "Write informative texts that explain a topic clearly"),
            ),
        ),
    ),
    ("ELA", "5"): (
        UnitTemplate(
            "Grade 5 ELA: Character and Conflict",
            (
                ("RL.5.1", "Quote accurately when drawing inferences"),
                ("RL.5.2", "Determine a theme and summarize a text"),
                ("RL.5.3", "Compare and contrast characters, settings or events"),
            ),
        ),
        UnitTemplate(
            "Grade 5 ELA: Argument and Evidence",
            (
                ("RI.5.8", "Explain how an author uses reasons and evidence"),
                ("W.5.1", "Write opinion pieces supported by reasons and information"),
                ("L.5.1", "Use grammar and usage conventions"),
            ),
        ),
    ),
}


@dataclass(frozen=True)
class Measure:
    assessment_skill_id: int
    max_points: int
    difficulty: float


@dataclass(frozen=True)
class ScoredAssessment:
    """An assessment whose due week ended before the snapshot date, so it has scores."""

    week: int
    progress: float  # 0 at the pre-assessment, 1 at the post-assessment
    measures: tuple[Measure, ...]


@dataclass(frozen=True)
class DemoUnit:
    unit_id: int
    start_date: datetime.date
    scored_assessments: tuple[ScoredAssessment, ...]


def units_create(
    *, district: District, actor: User, rng: random.Random
) -> dict[tuple[str, str], list[DemoUnit]]:
    units: dict[tuple[str, str], list[DemoUnit]] = {}
    for subject in SUBJECTS:
        for grade in GRADES:
            completed, in_progress = UNIT_CATALOG[(subject, grade)]
            units[(subject, grade)] = [
                unit_create(
                    district=district,
                    actor=actor,
                    subject=subject,
                    grade=grade,
                    template=template,
                    start_date=start_date,
                    rng=rng,
                )
                for template, start_date in (
                    (completed, COMPLETED_UNIT_START),
                    (in_progress, CURRENT_UNIT_START),
                )
            ]
    return units


def unit_create(
    *,
    district: District,
    actor: User,
    subject: str,
    grade: str,
    template: UnitTemplate,
    start_date: datetime.date,
    rng: random.Random,
) -> DemoUnit:
    """Save one unit through the plan service, then note what its scores need."""
    codes = [code for code, _description in template.skills]
    # Pre and post are parallel forms: every skill, with the same max points.
    pre_post_measures = tuple(
        MeasureSpec(skill_code=code, max_points=Decimal(rng.choice(PRE_POST_MAX_POINTS)))
        for code in codes
    )
    checkpoints = tuple(
        AssessmentSpec(
            kind=AssessmentKind.FORMATIVE,
            week=week,
            title=f"Checkpoint {number} (week {week})",
            # Each checkpoint looks at two neighbouring skills, as taught by then.
            measures=tuple(
                MeasureSpec(skill_code=code, max_points=Decimal(rng.choice(CHECKPOINT_MAX_POINTS)))
                for code in codes[number - 1 : number + 1]
            ),
        )
        for number, week in enumerate(CHECKPOINT_WEEKS, start=1)
    )
    plan = PlanSpec(
        weeks=UNIT_WEEKS,
        skills=tuple(SkillSpec(code=code, description=text) for code, text in template.skills),
        assessments=(
            AssessmentSpec(
                kind=AssessmentKind.PRE, week=1, title="Pre-assessment", measures=pre_post_measures
            ),
            *checkpoints,
            AssessmentSpec(
                kind=AssessmentKind.POST,
                week=UNIT_WEEKS,
                title="Post-assessment",
                measures=pre_post_measures,
            ),
        ),
    )
    unit = unit_plan_save(
        actor=actor,
        unit=Unit(district=district, title=template.title, subject=subject, grade_level=grade),
        plan=plan,
        share=True,
    )
    measured = (
        AssessmentSkill.objects.filter(assessment__unit=unit)
        .select_related("assessment", "skill")
        .order_by("assessment__week", "skill__code")
    )
    measures_by_week: dict[int, list[Measure]] = {}
    for assessment_skill in measured:
        measures_by_week.setdefault(assessment_skill.assessment.week, []).append(
            Measure(
                assessment_skill_id=assessment_skill.pk,
                max_points=int(assessment_skill.max_points),
                difficulty=rng.gauss(0, SKILL_DIFFICULTY_SPREAD),
            )
        )
    scored = tuple(
        ScoredAssessment(
            week=week, progress=(week - 1) / (unit.weeks - 1), measures=tuple(measures)
        )
        for week, measures in measures_by_week.items()
        if due_week_start(start_date, week) + datetime.timedelta(weeks=1) <= SNAPSHOT_DATE
    )
    return DemoUnit(unit_id=unit.pk, start_date=start_date, scored_assessments=scored)


def due_week_start(unit_start: datetime.date, week: int) -> datetime.date:
    return unit_start + datetime.timedelta(weeks=week - 1)

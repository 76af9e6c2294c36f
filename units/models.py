"""Units: a district's plan for about eight weeks of teaching and its thin-slice assessments.

The plan rules (one pre in week 1, one post in the last week, 1..cap formatives, each assessment
measuring at least one skill) are checked as a whole in units/services.py; the constraints here
back what the database can hold on its own.
"""

from __future__ import annotations

import datetime

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from classrooms.models import AcademicYear, Classroom, District, GradeLevel, User
from units.querysets import (
    AssessmentQuerySet,
    AssessmentSkillQuerySet,
    ClassroomUnitQuerySet,
    SkillQuerySet,
    UnitLineageQuerySet,
    UnitQuerySet,
)

MAX_UNIT_WEEKS = 20
REFLECTION_MAX_LENGTH = 200


class UnitLineage(models.Model):
    """A unit as people know it: who wrote it, who may use it, and every version of its plan.

    Each version is a ``Unit`` row; a classroom unit points at the version it started with, so
    a class scored under one plan keeps that plan when the unit is edited later. A lineage with
    no author was written by the district (set-up admin, API or import). ``is_shared`` is the
    district's publication (every teacher may start it or adapt a copy, nobody but a district
    admin edits it); ``is_shared_in_school`` is a teacher's offer to colleagues of their schools.
    """

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="unit_lineages")
    author = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="written_units",
        help_text="The teacher who wrote it; empty for the district's own units.",
    )
    is_shared = models.BooleanField(
        default=False, help_text="Published by the district: every teacher may start or copy it."
    )
    is_shared_in_school = models.BooleanField(
        default=False, help_text="Its author lets colleagues of their schools start or copy it."
    )
    academic_year = models.ForeignKey(
        AcademicYear,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="unit_lineages",
        help_text="The school year it was planned for (empty: any year).",
    )
    copied_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="copies"
    )
    carried_reflections = models.TextField(
        blank=True,
        help_text="The reflections left on the unit it was copied from, one per line.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = UnitLineageQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        latest = self.versions.order_by("-version").first()
        return latest.title if latest else f"Unit lineage {self.pk}"


class Unit(models.Model):
    """A district's unit of instruction: subject, grade, length in weeks, skills and a plan."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="units")
    lineage = models.ForeignKey(UnitLineage, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveSmallIntegerField(
        default=1,
        db_default=1,
        help_text="1 for the first plan; a new version once scores exist under one.",
    )
    title = models.CharField(max_length=200)
    subject = models.CharField(max_length=80)
    grade_level = models.CharField(max_length=2, choices=GradeLevel.choices)
    weeks = models.PositiveSmallIntegerField(
        default=8,
        validators=[MinValueValidator(2), MaxValueValidator(MAX_UNIT_WEEKS)],
        help_text="Length of the unit; the post-assessment falls in its last week.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UnitQuerySet.as_manager()

    class Meta:
        ordering = ["subject", "grade_level", "title"]
        constraints = [
            models.UniqueConstraint(fields=["lineage", "version"], name="unit_version_unique"),
            models.CheckConstraint(
                condition=Q(weeks__gte=2, weeks__lte=MAX_UNIT_WEEKS), name="unit_weeks_2_to_20"
            ),
        ]

    def __str__(self) -> str:
        if self.version > 1:
            return f"{self.title} (version {self.version})"
        return self.title


class Skill(models.Model):
    """A named skill a unit teaches, identified by a short code (e.g. 'FR.1')."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="skills")
    code = models.CharField(max_length=40)
    description = models.CharField(max_length=300, blank=True)

    objects = SkillQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "code"], name="skill_code_unique_in_unit"),
        ]

    def __str__(self) -> str:
        return self.code


class AssessmentKind(models.TextChoices):
    PRE = "pre", "Pre-assessment"
    FORMATIVE = "formative", "Formative checkpoint"
    POST = "post", "Post-assessment"


class Assessment(models.Model):
    """One of a unit's thin slices: a pre, a post or a formative checkpoint in a given week."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="assessments")
    kind = models.CharField(max_length=10, choices=AssessmentKind.choices)
    week = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    title = models.CharField(max_length=200)

    objects = AssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["week", "kind", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit"], condition=Q(kind="pre"), name="assessment_one_pre_per_unit"
            ),
            models.UniqueConstraint(
                fields=["unit"], condition=Q(kind="post"), name="assessment_one_post_per_unit"
            ),
            models.UniqueConstraint(fields=["unit", "title"], name="assessment_title_unique"),
            models.CheckConstraint(condition=Q(week__gte=1), name="assessment_week_positive"),
            models.CheckConstraint(
                condition=~Q(kind="pre") | Q(week=1), name="assessment_pre_in_week_1"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["pre", "formative", "post"]), name="assessment_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} (week {self.week})"


class AssessmentSkill(models.Model):
    """A skill an assessment measures, with the most points a student can earn on it."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="assessment_skills"
    )
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="assessment_skills")
    max_points = models.DecimalField(
        max_digits=6, decimal_places=2, validators=[MinValueValidator(0.01)]
    )

    objects = AssessmentSkillQuerySet.as_manager()

    class Meta:
        ordering = ["assessment", "skill__code"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "skill"], name="assessment_skill_unique"),
            models.CheckConstraint(
                condition=Q(max_points__gt=0), name="assessment_skill_max_points_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.skill.code} /{self.max_points}"


class ClassroomUnit(models.Model):
    """A unit taught in one classroom from a start date; gives each assessment its due week."""

    classroom = models.ForeignKey(
        Classroom, on_delete=models.PROTECT, related_name="classroom_units"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="classroom_units")
    start_date = models.DateField(help_text="Monday of the unit's first week.")
    reflection = models.CharField(
        max_length=REFLECTION_MAX_LENGTH,
        blank=True,
        default="",
        db_default="",
        help_text="The teacher's one line once the unit ends; it travels with a copy.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ClassroomUnitQuerySet.as_manager()

    class Meta:
        ordering = ["classroom", "start_date"]
        constraints = [
            models.UniqueConstraint(fields=["classroom", "unit"], name="classroom_unit_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} in {self.classroom}"

    def week_starts_on(self, week: int) -> datetime.date:
        return self.start_date + datetime.timedelta(weeks=week - 1)

    @property
    def ends_on(self) -> datetime.date:
        return self.week_starts_on(self.unit.weeks) + datetime.timedelta(days=6)

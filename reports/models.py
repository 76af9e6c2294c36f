"""Growth rows that Celery builds from scores; report pages read these, never raw scores.

The definitions are in reports/growth.py (PRODUCT.md, "Growth, defined once").
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from classrooms.models import Student
from reports.querysets import GrowthBuildQuerySet, StudentGrowthQuerySet
from units.models import ClassroomUnit


class GrowthBuild(models.Model):
    """When a classroom unit's growth rows were last built, and whether a rebuild is pending.

    ``stale_since`` is set by the first score change after a build (a rebuild is then queued) and
    cleared by the rebuild; ``last_change_at`` is the latest score change.
    """

    classroom_unit = models.OneToOneField(
        ClassroomUnit, on_delete=models.CASCADE, related_name="growth_build"
    )
    built_at = models.DateTimeField(null=True, blank=True)
    stale_since = models.DateTimeField(null=True, blank=True)
    last_change_at = models.DateTimeField(null=True, blank=True)

    objects = GrowthBuildQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Growth of {self.classroom_unit}"


class StudentGrowth(models.Model):
    """One enrolled student's growth over one classroom unit (pre%, post%, gain, g, slope).

    A student without both a pre and a post percentage is incomplete: stored and counted, with no
    gain. ``is_at_ceiling`` marks pre = 100%, where normalized gain is undefined.
    """

    classroom_unit = models.ForeignKey(
        ClassroomUnit, on_delete=models.CASCADE, related_name="student_growth"
    )
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="growth")
    pre_percentage = models.FloatField(null=True)
    post_percentage = models.FloatField(null=True)
    gain = models.FloatField(null=True)
    normalized_gain = models.FloatField(null=True)
    is_at_ceiling = models.BooleanField(default=False)
    slope_per_week = models.FloatField(null=True)
    is_target_met = models.BooleanField(null=True)
    is_complete = models.BooleanField()
    built_at = models.DateTimeField()

    objects = StudentGrowthQuerySet.as_manager()

    class Meta:
        ordering = ["classroom_unit", "student"]
        constraints = [
            models.UniqueConstraint(
                fields=["classroom_unit", "student"], name="student_growth_unique"
            ),
            models.CheckConstraint(
                condition=Q(is_complete=False)
                | Q(pre_percentage__isnull=False, post_percentage__isnull=False),
                name="student_growth_complete_has_pre_and_post",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student} in {self.classroom_unit}"

"""Scores: the only learner data Thinslice keeps, and the history of their changes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from assessments.querysets import ScoreChangeQuerySet, ScoreQuerySet
from classrooms.models import Student
from config.audit_rows import append_only_triggers
from units.models import AssessmentSkill, ClassroomUnit


class ScoreStatus(models.TextChoices):
    SCORED = "scored", "Scored"
    ABSENT = "absent", "Absent"
    EXEMPT = "exempt", "Exempt"


class Score(models.Model):
    """One student's result on one skill of one assessment, in one classroom unit.

    Either points (0..max points of the skill, at most 2 decimals) or a status (absent, exempt),
    never both. ``version`` grows with every change so a stale write can be detected and refused.
    """

    classroom_unit = models.ForeignKey(
        ClassroomUnit,
        on_delete=models.PROTECT,
        related_name="scores",
        db_index=False,  # score_unique starts with it; one index less to write on every save
    )
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="scores")
    assessment_skill = models.ForeignKey(
        AssessmentSkill, on_delete=models.PROTECT, related_name="scores"
    )
    status = models.CharField(
        max_length=10, choices=ScoreStatus.choices, default=ScoreStatus.SCORED
    )
    points = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    entered_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    objects = ScoreQuerySet.as_manager()

    class Meta:
        ordering = ["classroom_unit", "student", "assessment_skill"]
        constraints = [
            models.UniqueConstraint(
                fields=["classroom_unit", "student", "assessment_skill"], name="score_unique"
            ),
            models.CheckConstraint(
                condition=(Q(status="scored") & Q(points__isnull=False) & Q(points__gte=0))
                | (Q(status__in=["absent", "exempt"]) & Q(points__isnull=True)),
                name="score_points_or_status",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="score_version_positive"),
        ]

    def __str__(self) -> str:
        shown = self.points if self.status == ScoreStatus.SCORED else self.get_status_display()
        return f"{self.student} · {self.assessment_skill}: {shown}"


class ScoreChange(models.Model):
    """One change to one score (who, when, old → new), written in the same transaction.

    Rows are only ever added: the history of a score is never rewritten. A cleared score keeps its
    history (the score row itself is gone, so the change names the cell it belonged to).

    The foreign keys are not checked by the database (``db_constraint=False``): only
    ``scores_save`` writes these rows, in the same statement as the score rows, from ids it has
    just validated against the plan and the roster; checking four keys per row again at COMMIT
    cost a class's save as much as writing it (bench/score_bulk_save.py). PROTECT still stops
    Django from deleting a classroom unit, student, skill or person that history names.
    """

    classroom_unit = models.ForeignKey(
        ClassroomUnit,
        on_delete=models.PROTECT,
        related_name="score_changes",
        db_index=False,  # the cell-history index starts with it
        db_constraint=False,
    )
    student = models.ForeignKey(
        Student, on_delete=models.PROTECT, related_name="score_changes", db_constraint=False
    )
    assessment_skill = models.ForeignKey(
        AssessmentSkill,
        on_delete=models.PROTECT,
        related_name="score_changes",
        db_constraint=False,
    )
    # PROTECT: history names who changed a score for good; staff who leave are deactivated.
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    changed_at = models.DateTimeField()
    old_status = models.CharField(max_length=10, choices=ScoreStatus.choices, blank=True)
    old_points = models.DecimalField(max_digits=6, decimal_places=2, null=True)
    new_status = models.CharField(max_length=10, choices=ScoreStatus.choices, blank=True)
    new_points = models.DecimalField(max_digits=6, decimal_places=2, null=True)
    version = models.PositiveIntegerField(help_text="The score's version after this change.")
    request_key = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="The Idempotency-Key of the API request that made the change, if it sent one.",
    )
    reason = models.CharField(
        max_length=200,
        blank=True,
        default="",
        help_text="Why the teacher made the change, if they said (never required); "
        "an undo says so here.",
    )

    objects = ScoreChangeQuerySet.as_manager()

    class Meta:
        ordering = ["changed_at", "pk"]
        indexes = [
            models.Index(fields=["classroom_unit", "student", "assessment_skill", "changed_at"]),
            # Only changes sent with a key are indexed, so the grid's saves pay nothing for it.
            models.Index(
                fields=["changed_by", "request_key"],
                condition=~Q(request_key=""),
                name="score_change_request_key",
            ),
        ]
        # Only ever inserted; a privacy erasure alone may delete (config/audit_rows.py).
        triggers = append_only_triggers(
            refusal="score history is append-only",
            hint="Audit rows are only ever inserted; record a new change instead.",
        )

    def __str__(self) -> str:
        return f"{self.student} · {self.assessment_skill}: v{self.version}"

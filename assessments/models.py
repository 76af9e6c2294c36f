"""Scores: the only learner data Thinslice keeps; and the jobs that export large sets of them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from assessments.querysets import ExportJobQuerySet, ScoreChangeQuerySet, ScoreQuerySet
from classrooms.models import District, Student
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


class ExportKind(models.TextChoices):
    """What an export holds; docs/data-dictionary.md documents every column of each."""

    SCORES = "scores", "Student-level scores"
    STUDENT_GROWTH = "student_growth", "Student growth"
    AGGREGATE_GROWTH = "aggregate_growth", "Aggregate growth (de-identified)"
    ONEROSTER_RESULTS = "oneroster_results", "OneRoster 1.1 results"


class ExportStatus(models.TextChoices):
    PENDING = "pending", "Waiting to start"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Ready"
    FAILED = "failed", "Failed"


class ExportJob(models.Model):
    """A large export written to a file by a Celery task (assessments/exports.py).

    The task claims a pending job atomically (pending → running), reads the rows again through
    ``visible_to(requested_by)``, reports progress in ``rows_written`` and ends succeeded (with
    ``file_name`` under THINSLICE_EXPORT_DIR and ``expires_at``) or failed (with ``message``).
    Only the requester and the district's admins reach a job and its file, and only until it
    expires. ``parameters`` holds the filters and options the job was asked for.
    """

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="export_jobs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="export_jobs"
    )
    kind = models.CharField(max_length=40, choices=ExportKind.choices)
    parameters = models.JSONField(default=dict, blank=True, help_text="Filters and options.")
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING
    )
    estimated_rows = models.PositiveBigIntegerField(default=0)
    rows_written = models.PositiveBigIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    file_name = models.CharField(
        max_length=255, blank=True, help_text="Path of the file under THINSLICE_EXPORT_DIR."
    )
    file_size = models.PositiveBigIntegerField(default=0)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["district", "-created_at"], name="export_job_district_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "running", "succeeded", "failed"]),
                name="export_job_status_known",
            ),
            models.CheckConstraint(
                condition=~Q(status="succeeded") | ~Q(file_name=""),
                name="export_job_succeeded_has_file",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (ExportStatus.SUCCEEDED, ExportStatus.FAILED)

    @property
    def progress_percent(self) -> int:
        """Rows written as a share of the estimate, 0..100 (100 once it succeeded)."""
        if self.status == ExportStatus.SUCCEEDED:
            return 100
        if not self.estimated_rows:
            return 0
        return min(99, self.rows_written * 100 // self.estimated_rows)

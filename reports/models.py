"""Growth rows that Celery builds from scores; report pages read these, never raw scores.

The definitions are in reports/growth/ ("Growth, defined once").

Every table here is derived: the rebuild (reports/growth_build/) computes its rows from scores
(StudentGrowth) or from StudentGrowth (the summaries) and writes the ones that changed. Their
foreign keys therefore skip the database constraint (``db_constraint=False``): Django still
cascades deletes, and a full rebuild of 100 000 students does not spend longer checking
constraints at commit than writing the rows; for the same reason they keep few indexes
(bench/growth_rebuild.py measures the rebuild).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from classrooms.models import District, School, Student, StudentGroup
from reports.growth import HakeBand, ProficiencyBand
from reports.querysets import (
    ClassroomUnitGrowthCellQuerySet,
    ClassroomUnitGrowthSummaryQuerySet,
    DistrictUnitGrowthSummaryQuerySet,
    ExportJobQuerySet,
    GrowthBuildQuerySet,
    SchoolUnitGrowthSummaryQuerySet,
    StudentGrowthQuerySet,
)
from units.models import ClassroomUnit, Unit

PROFICIENCY_BAND_CHOICES = [(band.value, band.value.capitalize()) for band in ProficiencyBand]
HAKE_BAND_CHOICES = [(band.value, band.value.capitalize()) for band in HakeBand]


class GrowthBuild(models.Model):
    """When a classroom unit's growth rows were last built, and whether a rebuild is pending.

    ``stale_since`` is set by the first score change after a build (a rebuild is then queued) and
    cleared by the rebuild, which also refreshes the school and district roll-ups;
    ``last_change_at`` is the latest score change.

    ``failed_at`` and ``failure_message`` record that the task updating these rows gave up (its
    retries ran out, or the error was not worth retrying): the rows are still those of
    ``built_at`` and the report pages say the update failed. A build started after the failure
    clears them.
    """

    classroom_unit = models.OneToOneField(
        ClassroomUnit, on_delete=models.CASCADE, related_name="growth_build"
    )
    built_at = models.DateTimeField(null=True, blank=True)
    stale_since = models.DateTimeField(null=True, blank=True)
    last_change_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    failure_message = models.TextField(blank=True)

    objects = GrowthBuildQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Growth of {self.classroom_unit}"


class StudentGrowth(models.Model):
    """One enrolled student's growth over one classroom unit (pre%, post%, gain, g, slope).

    A student without both a pre and a post percentage is incomplete: stored and counted, with no
    gain. ``is_at_ceiling`` marks pre = 100%, where normalized gain is undefined;
    ``has_little_room_to_grow`` marks pre ≥ 90%. Bands are empty when the percentage is missing.

    The checkpoint trajectory: ``checkpoint_weeks`` has the week of each assessment of the unit
    in trajectory order (week, then pre, checkpoints, post, then title) and
    ``checkpoint_percentages`` the student's percentage on it (None when nothing was scored).
    Rows carry their own weeks, so they read the same after a plan changes; ``trajectory`` reads
    them as reports/growth/ gives them. Per skill, for the per-skill summaries:
    ``skill_codes`` lists the codes the unit's pre and post measure (in code order), and
    ``pre_skill_points``/``post_skill_points`` the student's points on each, in hundredths (None
    when absent, exempt, not entered or not measured); a skill's percentage is its points over
    the plan's max points for it.
    """

    # The key is (classroom unit, student): its index is the only one, as a full rebuild of
    # 100 000 students writes 400 000 rows and every index costs a share of that time.
    pk = models.CompositePrimaryKey("classroom_unit", "student")
    classroom_unit = models.ForeignKey(
        ClassroomUnit,
        on_delete=models.CASCADE,
        related_name="student_growth",
        db_constraint=False,
        db_index=False,  # the primary key (classroom_unit, student) serves these lookups
    )
    student = models.ForeignKey(
        Student,
        on_delete=models.CASCADE,
        related_name="growth",
        db_constraint=False,
        # No index of its own: students are deactivated, not deleted, so only an operator's
        # delete would look rows up by student alone.
        db_index=False,
    )
    pre_percentage = models.FloatField(null=True)
    post_percentage = models.FloatField(null=True)
    gain = models.FloatField(null=True)
    normalized_gain = models.FloatField(null=True)
    is_at_ceiling = models.BooleanField(default=False)
    has_little_room_to_grow = models.BooleanField(default=False)
    slope_per_week = models.FloatField(null=True)
    is_target_met = models.BooleanField(null=True)
    is_complete = models.BooleanField()
    pre_band = models.CharField(max_length=12, choices=PROFICIENCY_BAND_CHOICES, blank=True)
    post_band = models.CharField(max_length=12, choices=PROFICIENCY_BAND_CHOICES, blank=True)
    checkpoint_weeks = ArrayField(
        base_field=models.PositiveSmallIntegerField(), default=list, blank=True
    )
    checkpoint_percentages = ArrayField(base_field=models.FloatField(), default=list, blank=True)
    skill_codes = ArrayField(base_field=models.CharField(max_length=40), default=list, blank=True)
    pre_skill_points = ArrayField(base_field=models.IntegerField(), default=list, blank=True)
    post_skill_points = ArrayField(base_field=models.IntegerField(), default=list, blank=True)
    built_at = models.DateTimeField()

    objects = StudentGrowthQuerySet.as_manager()

    class Meta:
        ordering = ["classroom_unit", "student"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_complete=False)
                | Q(pre_percentage__isnull=False, post_percentage__isnull=False),
                name="student_growth_complete_has_pre_and_post",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student} in {self.classroom_unit}"

    @property
    def trajectory(self) -> list[list[float]]:
        """[week, percentage] of every assessment with a percentage, in trajectory order."""
        return [
            [week, percentage]
            for week, percentage in zip(
                self.checkpoint_weeks, self.checkpoint_percentages, strict=True
            )
            if percentage is not None
        ]


class BreakdownPart(models.TextChoices):
    """Which students a summary row covers: everyone, a student group, or everyone else."""

    ALL = "all", "All students"
    GROUP = "group", "In the group"
    REST = "rest", "Not in the group"


class SuppressionReason(models.TextChoices):
    """Why a summary row is hidden: too few students, or to protect a small cell elsewhere."""

    FEWER_THAN_MINIMUM = "fewer_than_minimum", "fewer students than the district's minimum n"
    PROTECTS_SMALL_CELL = "protects_small_cell", "hidden so that a small cell cannot be worked out"


class GrowthSummary(models.Model):
    """The statistics of ``growth.group_summary`` for one group of students, as stored columns.

    ``part`` says whether the row covers every student (``student_group`` empty), the students in
    ``student_group``, or the rest. A suppressed row (too few students, or hidden so that another
    hidden row cannot be worked out from the shown ones) keeps every statistic empty; pages show
    it as suppressed, never as 0. ``skill_means`` maps skill code → {"n", "pre", "post"}, or
    {"suppressed": true}; a group row also carries the gaps to the rest (percentage points) and
    ``skill_gaps`` per skill. ``band_transitions`` maps "pre band>post band" → count.
    """

    student_group = models.ForeignKey(
        StudentGroup,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        # Rows are found by their node (the constraints' indexes); deleting a student group
        # (rare) may scan. One index fewer to keep up in a full rebuild.
        db_index=False,
    )
    part = models.CharField(max_length=5, choices=BreakdownPart)
    is_suppressed = models.BooleanField(default=False)
    suppression_reason = models.CharField(max_length=20, choices=SuppressionReason, blank=True)
    n = models.PositiveIntegerField(null=True)
    incomplete_count = models.PositiveIntegerField(null=True)
    mean_pre_percentage = models.FloatField(null=True)
    mean_post_percentage = models.FloatField(null=True)
    mean_gain = models.FloatField(null=True)
    mean_gain_lower = models.FloatField(null=True)
    mean_gain_upper = models.FloatField(null=True)
    class_average_normalized_gain = models.FloatField(null=True)
    hake_band = models.CharField(max_length=6, choices=HAKE_BAND_CHOICES, blank=True)
    mean_individual_normalized_gain = models.FloatField(null=True)
    at_ceiling_count = models.PositiveIntegerField(null=True)
    little_room_to_grow_count = models.PositiveIntegerField(null=True)
    effect_size_d_av = models.FloatField(null=True)
    target_met_count = models.PositiveIntegerField(null=True)
    share_meeting_target = models.FloatField(null=True)
    band_transitions = models.JSONField(default=dict, blank=True)
    skill_means = models.JSONField(default=dict, blank=True)
    pre_gap = models.FloatField(null=True)
    post_gap = models.FloatField(null=True)
    gap_change = models.FloatField(null=True)
    skill_gaps = models.JSONField(default=dict, blank=True)
    # On the row of everyone: a digest of what the node's rows were built from, so a rebuild
    # over unchanged inputs builds and writes none of them (reports/growth_build/).
    inputs_digest = models.CharField(max_length=32, blank=True)
    built_at = models.DateTimeField()

    class Meta:
        abstract = True

    @staticmethod
    def part_constraints(scope: list[str], prefix: str) -> list[models.BaseConstraint]:
        """One whole-group row per scope, one row per student group and part; parts agree
        with whether a student group is named."""
        return [
            models.UniqueConstraint(
                fields=scope, condition=Q(part="all"), name=f"{prefix}_one_all_row"
            ),
            models.UniqueConstraint(
                fields=[*scope, "student_group", "part"],
                condition=~Q(part="all"),
                name=f"{prefix}_one_row_per_group_part",
            ),
            models.CheckConstraint(
                condition=(Q(part="all") & Q(student_group__isnull=True))
                | (Q(part__in=["group", "rest"]) & Q(student_group__isnull=False)),
                name=f"{prefix}_part_matches_group",
            ),
        ]


class ClassroomUnitGrowthSummary(GrowthSummary):
    """Growth statistics of one classroom unit, and of each student group in it."""

    classroom_unit = models.ForeignKey(
        ClassroomUnit,
        on_delete=models.CASCADE,
        related_name="growth_summaries",
        db_constraint=False,
    )

    objects = ClassroomUnitGrowthSummaryQuerySet.as_manager()

    class Meta:
        ordering = ["classroom_unit", "student_group", "part"]
        constraints = GrowthSummary.part_constraints(["classroom_unit"], "classroom_unit_summary")

    def __str__(self) -> str:
        return f"{self.get_part_display()} · {self.classroom_unit}"


class ClassroomUnitGrowthCell(models.Model):
    """The exact sums one classroom unit adds to its school's and district's summaries: for
    everyone (``part`` all) and, per student group, its members and the rest.

    Working data of the growth rebuild (reports/growth_build/), never shown: a school's or the
    district's summaries add up their classroom units' cells, so a change in one class rebuilds
    that class's cells from its students and re-adds the unit's cells, without reading every
    student of the unit. Sums are exact (percentages, gains and g in whole multiples of
    1/EXACT_SUM_SCALE, their squares exactly), so adding stored cells gives to the last digit what
    adding the students would. Per skill (by its index among the unit's codes): students scored
    at both the pre and the post, and their points there in hundredths. The row of everyone
    keeps in ``inputs_digest`` a digest of the student rows and student groups it was added up
    from.
    """

    classroom_unit = models.ForeignKey(
        ClassroomUnit, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    student_group = models.ForeignKey(
        StudentGroup,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    part = models.CharField(max_length=5, choices=BreakdownPart)
    incomplete = models.IntegerField()
    n = models.IntegerField()
    pre_sum = models.DecimalField(max_digits=60, decimal_places=0, null=True)
    pre_squares = models.DecimalField(max_digits=60, decimal_places=0, null=True)
    post_sum = models.DecimalField(max_digits=60, decimal_places=0, null=True)
    post_squares = models.DecimalField(max_digits=60, decimal_places=0, null=True)
    gain_sum = models.DecimalField(max_digits=60, decimal_places=0, null=True)
    gain_squares = models.DecimalField(max_digits=60, decimal_places=0, null=True)
    g_count = models.IntegerField()
    g_sum = models.DecimalField(max_digits=60, decimal_places=0, null=True)
    at_ceiling = models.IntegerField()
    little_room = models.IntegerField()
    target_met = models.IntegerField()
    # Complete students by proficiency band at the pre, then at the post.
    beginning_beginning = models.IntegerField()
    beginning_developing = models.IntegerField()
    beginning_proficient = models.IntegerField()
    developing_beginning = models.IntegerField()
    developing_developing = models.IntegerField()
    developing_proficient = models.IntegerField()
    proficient_beginning = models.IntegerField()
    proficient_developing = models.IntegerField()
    proficient_proficient = models.IntegerField()
    skill_counts = ArrayField(base_field=models.IntegerField(), default=list)
    skill_pre_points = ArrayField(base_field=models.BigIntegerField(), default=list)
    skill_post_points = ArrayField(base_field=models.BigIntegerField(), default=list)
    inputs_digest = models.CharField(max_length=32, blank=True)

    objects = ClassroomUnitGrowthCellQuerySet.as_manager()

    class Meta:
        ordering = ["classroom_unit", "student_group", "part"]
        constraints = [
            models.UniqueConstraint(
                fields=["classroom_unit", "student_group", "part"],
                nulls_distinct=False,
                name="classroom_unit_cell_one_per_group_part",
            ),
            models.CheckConstraint(
                condition=(Q(part="all") & Q(student_group__isnull=True))
                | (Q(part__in=["group", "rest"]) & Q(student_group__isnull=False)),
                name="classroom_unit_cell_part_matches_group",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_part_display()} · {self.classroom_unit} (sums)"


class SchoolUnitGrowthSummary(GrowthSummary):
    """Growth statistics of one unit across a school's classrooms, and of each student group."""

    school = models.ForeignKey(
        School,
        on_delete=models.CASCADE,
        related_name="growth_summaries",
        db_constraint=False,
    )
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+", db_constraint=False)

    objects = SchoolUnitGrowthSummaryQuerySet.as_manager()

    class Meta:
        ordering = ["school", "unit", "student_group", "part"]
        constraints = GrowthSummary.part_constraints(["school", "unit"], "school_unit_summary")

    def __str__(self) -> str:
        return f"{self.get_part_display()} · {self.unit} in {self.school}"


class DistrictUnitGrowthSummary(GrowthSummary):
    """Growth statistics of one unit across a district, and of each student group."""

    district = models.ForeignKey(
        District,
        on_delete=models.CASCADE,
        related_name="growth_summaries",
        db_constraint=False,
    )
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+", db_constraint=False)

    objects = DistrictUnitGrowthSummaryQuerySet.as_manager()

    class Meta:
        ordering = ["district", "unit", "student_group", "part"]
        constraints = GrowthSummary.part_constraints(["district", "unit"], "district_unit_summary")

    def __str__(self) -> str:
        return f"{self.get_part_display()} · {self.unit} in {self.district}"


# ---------------------------------------------------------------------------------------------
# Export jobs: large exports written to a file by Celery (reports/exports/). Not derived rows,
# unlike the growth tables above: their foreign keys keep the database constraint. The table was
# created as assessments_exportjob and moved here with its rows (migration 0006_exportjob_moved).
# ---------------------------------------------------------------------------------------------


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
    """A large export written to a file by a Celery task (reports/exports/jobs.py).

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

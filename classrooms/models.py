"""The tenant (District) and who is taught where: schools, terms, classrooms, students, staff."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from classrooms.querysets import (
    AcademicYearQuerySet,
    AuditEventQuerySet,
    ClassroomQuerySet,
    DistrictQuerySet,
    EnrollmentQuerySet,
    SchoolQuerySet,
    StudentGroupQuerySet,
    StudentQuerySet,
    TermQuerySet,
    UserQuerySet,
)
from config.audit_rows import append_only_triggers

FORMATIVE_CAP_CEILING = 8


class GradeLevel(models.TextChoices):
    KINDERGARTEN = "K", "Kindergarten"
    GRADE_1 = "1", "Grade 1"
    GRADE_2 = "2", "Grade 2"
    GRADE_3 = "3", "Grade 3"
    GRADE_4 = "4", "Grade 4"
    GRADE_5 = "5", "Grade 5"
    GRADE_6 = "6", "Grade 6"
    GRADE_7 = "7", "Grade 7"
    GRADE_8 = "8", "Grade 8"
    GRADE_9 = "9", "Grade 9"
    GRADE_10 = "10", "Grade 10"
    GRADE_11 = "11", "Grade 11"
    GRADE_12 = "12", "Grade 12"


class District(models.Model):
    """The tenant. Its settings bound every unit plan and every report in it.

    The formative cap is 1..8 (default 5); minimum n suppresses small report cells; a student meets
    the growth target with normalized gain ≥ growth_target or a post score ≥ proficiency_cut.
    """

    name = models.CharField(max_length=200, unique=True)
    formative_cap = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(FORMATIVE_CAP_CEILING)],
        help_text="Most formative checkpoints a unit may have (1 to 8).",
    )
    minimum_n = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(1)],
        help_text="Report cells with fewer students than this are suppressed.",
    )
    growth_target = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.30"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="Normalized gain a student should reach (0 to 1).",
    )
    developing_cut = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("40"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="Percentage from which a student is 'developing' rather than 'beginning'.",
    )
    proficiency_cut = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("70"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="Percentage from which a student is 'proficient'.",
    )
    retention_years = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Years learner data is kept; empty keeps it until deleted.",
    )
    teachers_write_units = models.BooleanField(
        default=True,
        db_default=True,
        help_text="Teachers may write their own units (otherwise they start the district's).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DistrictQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(formative_cap__gte=1, formative_cap__lte=FORMATIVE_CAP_CEILING),
                name="district_formative_cap_1_to_8",
            ),
            models.CheckConstraint(
                condition=Q(minimum_n__gte=1), name="district_minimum_n_positive"
            ),
            models.CheckConstraint(
                condition=Q(growth_target__gte=0, growth_target__lte=1),
                name="district_growth_target_0_to_1",
            ),
            models.CheckConstraint(
                condition=Q(developing_cut__gte=0)
                & Q(developing_cut__lt=F("proficiency_cut"))
                & Q(proficiency_cut__lte=100),
                name="district_cuts_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ScopedUserManager(UserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    """Django's user manager (create_user, …) with the scoped queryset."""


class User(AbstractUser):
    """A person who signs in. Belongs to one district (superusers to none).

    Roles come from assignments, so one person may hold several: teacher (Classroom.teachers),
    coach (School.coaches), district admin (is_district_admin).
    """

    district = models.ForeignKey(
        District, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    is_district_admin = models.BooleanField(
        default=False, help_text="Can set up and see everything in the district."
    )
    sourced_id = models.CharField(
        "OneRoster sourcedId",
        max_length=255,
        blank=True,
        default="",
        db_default="",
        help_text="The student information system's id (OneRoster); empty for rows made here.",
    )

    objects = ScopedUserManager()  # type: ignore[misc]

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_district_admin=False) | Q(district__isnull=False),
                name="user_district_admin_has_district",
            ),
            models.UniqueConstraint(
                fields=["district", "sourced_id"],
                condition=~Q(sourced_id=""),
                name="user_sourced_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class School(models.Model):
    """A school in a district; coaches are assigned to schools."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="schools")
    name = models.CharField(max_length=200)
    code = models.CharField(max_length=40, help_text="The district's code for the school.")
    coaches = models.ManyToManyField(User, blank=True, related_name="coached_schools")
    sourced_id = models.CharField(
        "OneRoster sourcedId",
        max_length=255,
        blank=True,
        default="",
        db_default="",
        help_text="The student information system's id (OneRoster); empty for rows made here.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SchoolQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "code"], name="school_code_unique_in_district"
            ),
            models.UniqueConstraint(
                fields=["district", "name"], name="school_name_unique_in_district"
            ),
            models.UniqueConstraint(
                fields=["district", "sourced_id"],
                condition=~Q(sourced_id=""),
                name="school_sourced_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AcademicYear(models.Model):
    """A district's school year, e.g. 2026–27."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="academic_years")
    name = models.CharField(max_length=40)
    start_date = models.DateField()
    end_date = models.DateField()
    sourced_id = models.CharField(
        "OneRoster sourcedId",
        max_length=255,
        blank=True,
        default="",
        db_default="",
        help_text="The student information system's id (OneRoster); empty for rows made here.",
    )

    objects = AcademicYearQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="academic_year_unique_name"),
            models.UniqueConstraint(
                fields=["district", "sourced_id"],
                condition=~Q(sourced_id=""),
                name="academic_year_sourced_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(end_date__gt=F("start_date")), name="academic_year_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Term(models.Model):
    """A term (semester, trimester, quarter) inside an academic year."""

    academic_year = models.ForeignKey(AcademicYear, on_delete=models.PROTECT, related_name="terms")
    name = models.CharField(max_length=60)
    start_date = models.DateField()
    end_date = models.DateField()
    sourced_id = models.CharField(
        "OneRoster sourcedId",
        max_length=255,
        blank=True,
        default="",
        db_default="",
        help_text="The student information system's id (OneRoster); empty for rows made here.",
    )

    objects = TermQuerySet.as_manager()

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.UniqueConstraint(fields=["academic_year", "name"], name="term_unique_name"),
            models.UniqueConstraint(
                fields=["academic_year", "sourced_id"],
                condition=~Q(sourced_id=""),
                name="term_sourced_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(end_date__gt=F("start_date")), name="term_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.academic_year} {self.name}"


class Classroom(models.Model):
    """A section: one school, subject, grade and term, taught by one or more teachers."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="classrooms")
    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="classrooms")
    name = models.CharField(max_length=200, help_text="e.g. 'Grade 5 Math, period 2'.")
    subject = models.CharField(max_length=80)
    grade_level = models.CharField(max_length=2, choices=GradeLevel.choices)
    teachers = models.ManyToManyField(User, blank=True, related_name="taught_classrooms")
    sourced_id = models.CharField(
        "OneRoster sourcedId",
        max_length=255,
        blank=True,
        default="",
        db_default="",
        help_text="The student information system's id (OneRoster); empty for rows made here.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ClassroomQuerySet.as_manager()

    class Meta:
        ordering = ["school__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "term", "name"], name="classroom_name_unique_in_school_term"
            ),
            models.UniqueConstraint(
                fields=["school", "sourced_id"],
                condition=~Q(sourced_id=""),
                name="classroom_sourced_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.school})"


class StudentGroup(models.Model):
    """A district-defined group for equity breakdowns (e.g. 'English learners')."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="student_groups")
    name = models.CharField(max_length=80)

    objects = StudentGroupQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="student_group_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Student(models.Model):
    """A learner, identified by the district's SIS id (unique within the district)."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="students")
    sis_id = models.CharField("SIS id", max_length=64)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    grade_level = models.CharField(max_length=2, choices=GradeLevel.choices)
    groups = models.ManyToManyField(StudentGroup, blank=True, related_name="students")
    is_active = models.BooleanField(default=True)
    sourced_id = models.CharField(
        "OneRoster sourcedId",
        max_length=255,
        blank=True,
        default="",
        db_default="",
        help_text="The student information system's id (OneRoster); empty for rows made here.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StudentQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name", "sis_id"]
        constraints = [
            models.UniqueConstraint(fields=["district", "sis_id"], name="student_sis_id_unique"),
            models.UniqueConstraint(
                fields=["district", "sourced_id"],
                condition=~Q(sourced_id=""),
                name="student_sourced_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name}"


class Enrollment(models.Model):
    """A student in a classroom from a start date, until an end date if they left."""

    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="enrollments")
    classroom = models.ForeignKey(Classroom, on_delete=models.PROTECT, related_name="enrollments")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    sourced_id = models.CharField(
        "OneRoster sourcedId",
        max_length=255,
        blank=True,
        default="",
        db_default="",
        help_text="The student information system's id (OneRoster); empty for rows made here.",
    )

    objects = EnrollmentQuerySet.as_manager()

    class Meta:
        ordering = ["classroom", "student"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "classroom", "start_date"], name="enrollment_unique_start"
            ),
            models.UniqueConstraint(
                fields=["classroom", "sourced_id"],
                condition=~Q(sourced_id=""),
                name="enrollment_sourced_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="enrollment_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student} in {self.classroom}"


class AuditKind(models.TextChoices):
    """What an audit event records. Exports add their kinds here; the field itself is free text,
    so a new kind needs no migration."""

    ROSTER_IMPORT_DRY_RUN = "roster_import_dry_run", "Roster import (dry run)"
    ROSTER_IMPORT = "roster_import", "Roster import"
    EXPORT_SCORES = "export_scores", "Export: student-level scores"
    EXPORT_STUDENT_GROWTH = "export_student_growth", "Export: student growth"
    EXPORT_AGGREGATE_GROWTH = "export_aggregate_growth", "Export: aggregate growth"
    EXPORT_ONEROSTER_RESULTS = "export_oneroster_results", "Export: OneRoster results"
    EXPORT_DOWNLOAD = "export_download", "Export file downloaded"
    STUDENT_ERASURE = "student_erasure", "Student deleted on request"
    RETENTION_PURGE = "retention_purge", "Retention purge"


class AuditOutcome(models.TextChoices):
    """Whether the import or export did what was asked (for a dry run: found no problem)."""

    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class AuditEvent(models.Model):
    """One import, export or privacy operation (student erasure, retention purge) on a
    district's data as it happened: who, when, what, how many rows, and the outcome.

    Rows are only ever added (classrooms/audit.py): no page, API or admin changes or deletes them,
    and the queryset and model refuse to. ``actor`` is empty when a server operator ran a
    management command; ``actor_name`` keeps who it was as they were named at the time.
    """

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="audit_events")
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    actor_name = models.CharField(max_length=200)
    kind = models.CharField(max_length=60)
    parameters = models.JSONField(
        default=dict, blank=True, encoder=DjangoJSONEncoder, help_text="Filters and options."
    )
    row_count = models.PositiveIntegerField(default=0, help_text="Rows read or written.")
    outcome = models.CharField(max_length=10, choices=AuditOutcome.choices)
    message = models.TextField(blank=True, help_text="A one-paragraph summary for people.")
    result = models.JSONField(
        default=dict, blank=True, encoder=DjangoJSONEncoder, help_text="Counts and problems."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["district", "-created_at"], name="audit_event_district_recent")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=["succeeded", "failed"]), name="audit_event_outcome_known"
            ),
        ]
        # Only ever inserted; a privacy erasure alone may delete (config/audit_rows.py).
        triggers = append_only_triggers(
            refusal="the audit log is append-only",
            hint="Audit rows are only ever inserted; record a new event instead.",
        )

    def __str__(self) -> str:
        return f"{self.kind_label} by {self.actor_name} ({self.get_outcome_display()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Append-only: an audit row that could be rewritten would prove nothing.
        if not self._state.adding:
            raise TypeError("Audit events are never changed once written.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("Audit events are never deleted.")

    @property
    def kind_label(self) -> str:
        try:
            return str(AuditKind(self.kind).label)
        except ValueError:
            return self.kind

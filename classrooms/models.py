"""The tenant (District) and who is taught where: schools, terms, classrooms, students, staff."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from classrooms.querysets import (
    AcademicYearQuerySet,
    ClassroomQuerySet,
    DistrictQuerySet,
    EnrollmentQuerySet,
    SchoolQuerySet,
    StudentGroupQuerySet,
    StudentQuerySet,
    TermQuerySet,
    UserQuerySet,
)

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

    objects = ScopedUserManager()  # type: ignore[misc]

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_district_admin=False) | Q(district__isnull=False),
                name="user_district_admin_has_district",
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
        ]

    def __str__(self) -> str:
        return self.name


class AcademicYear(models.Model):
    """A district's school year, e.g. 2026–27."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="academic_years")
    name = models.CharField(max_length=40)
    start_date = models.DateField()
    end_date = models.DateField()

    objects = AcademicYearQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="academic_year_unique_name"),
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

    objects = TermQuerySet.as_manager()

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.UniqueConstraint(fields=["academic_year", "name"], name="term_unique_name"),
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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ClassroomQuerySet.as_manager()

    class Meta:
        ordering = ["school__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "term", "name"], name="classroom_name_unique_in_school_term"
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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StudentQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name", "sis_id"]
        constraints = [
            models.UniqueConstraint(fields=["district", "sis_id"], name="student_sis_id_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name}"


class Enrollment(models.Model):
    """A student in a classroom from a start date, until an end date if they left."""

    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="enrollments")
    classroom = models.ForeignKey(Classroom, on_delete=models.PROTECT, related_name="enrollments")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    objects = EnrollmentQuerySet.as_manager()

    class Meta:
        ordering = ["classroom", "student"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "classroom", "start_date"], name="enrollment_unique_start"
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="enrollment_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student} in {self.classroom}"

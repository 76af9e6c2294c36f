"""The tenant (District) and who is taught where: schools, terms, classrooms, students, staff."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.crypto import salted_hmac

from classrooms.querysets import (
    AcademicYearQuerySet,
    AuditEventQuerySet,
    ClassroomQuerySet,
    DistrictQuerySet,
    EnrollmentQuerySet,
    RosterImportChangeQuerySet,
    RosterImportQuerySet,
    SchoolQuerySet,
    SignInFailureQuerySet,
    SignInProviderQuerySet,
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
    slug = models.SlugField(
        max_length=60,
        unique=True,
        null=True,
        blank=True,
        help_text=(
            "The district's sign-in address: /d/<slug>/login/ (its single sign-on buttons and "
            "usernames of this district only)."
        ),
    )
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
    # The district organisation of the student information system's OneRoster files, recorded
    # by the first import that matched (or was confirmed), so a file of another district is
    # noticed before it is imported (classrooms/oneroster/district.py).
    oneroster_sourced_id = models.CharField(
        "OneRoster district sourcedId",
        max_length=255,
        blank=True,
        default="",
        db_default="",
        help_text="The sourcedId of the district org in the OneRoster files; set by imports.",
    )
    oneroster_identifier = models.CharField(
        "OneRoster district identifier",
        max_length=255,
        blank=True,
        default="",
        db_default="",
        help_text="The identifier of the district org in the OneRoster files; set by imports.",
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


class SignInProviderKind(models.TextChoices):
    GOOGLE = "google", "Google"
    MICROSOFT = "microsoft", "Microsoft (Entra ID)"
    OPENID_CONNECT = "openid_connect", "OpenID Connect (Clever, ClassLink, others)"


class SignInProvider(models.Model):
    """A district's single sign-on provider, set up by its admin (never in settings).

    Signing in through it only matches people the district already has, by the verified email
    the provider vouches for or by the roster's sourcedId in ``roster_id_claim``; it never
    creates an account (classrooms/signin/sso.py).
    """

    district = models.ForeignKey(
        District, on_delete=models.CASCADE, related_name="sign_in_providers"
    )
    kind = models.CharField(max_length=20, choices=SignInProviderKind.choices)
    label = models.CharField(
        max_length=80, help_text="The button's name on the sign-in page, e.g. 'Clever'."
    )
    client_id = models.CharField("client id", max_length=255)
    secret = models.CharField(
        "client secret", max_length=255, blank=True, help_text="Leave empty to keep the saved one."
    )
    server_url = models.URLField(
        "issuer URL",
        blank=True,
        help_text="OpenID Connect only: the provider's issuer (its "
        "/.well-known/openid-configuration is read from there).",
    )
    tenant = models.CharField(
        max_length=100,
        blank=True,
        help_text="Microsoft only: the Entra ID tenant (directory) id; empty for 'organizations'.",
    )
    roster_id_claim = models.CharField(
        max_length=100,
        blank=True,
        help_text="The claim holding the roster's sourcedId (e.g. 'sub'); empty: match people "
        "by their verified email only.",
    )
    is_enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SignInProviderQuerySet.as_manager()

    class Meta:
        ordering = ["label"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="openid_connect") | ~Q(server_url=""),
                name="signinprovider_openid_connect_has_issuer",
                violation_error_message="An OpenID Connect provider needs its issuer URL.",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def provider_id(self) -> str:
        """allauth's provider id: the kind, or one per OpenID Connect provider."""
        if self.kind == SignInProviderKind.OPENID_CONNECT:
            return f"sso-{self.pk}"
        return str(self.kind)


class SignInFailure(models.Model):
    """A wrong password, kept for a few minutes to notice one password tried across many
    usernames from one address (spraying). The password is kept only as a keyed hash (HMAC
    with the secret key), never as typed; rows older than the window are deleted."""

    address = models.GenericIPAddressField(null=True, blank=True)
    password_digest = models.CharField(max_length=64)
    username = models.CharField(max_length=254)
    failed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = SignInFailureQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(
                fields=["address", "password_digest", "failed_at"],
                name="signinfailure_spray_lookup",
            )
        ]

    def __str__(self) -> str:
        return f"{self.username} from {self.address}"


class ScopedUserManager(UserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    """Django's user manager (create_user, …) with the scoped queryset.

    A username is unique within a district, so the natural key Django's own commands look up
    (createsuperuser, changepassword) is the platform operator's: the account with that username
    and no district. Signing in resolves the district first (classrooms/authentication.py).
    """

    def get_by_natural_key(self, username: str | None) -> Any:
        return self.get(username=username, district__isnull=True)


class User(AbstractUser):
    """A person who signs in. Belongs to one district (superusers to none).

    Roles come from assignments, so one person may hold several: teacher (Classroom.teachers),
    coach (School.coaches), district admin (is_district_admin).
    """

    username = models.CharField(
        "username",
        max_length=150,
        help_text="Unique within the district. Letters, digits and @/./+/-/_ only.",
        validators=[UnicodeUsernameValidator()],
    )
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

    sessions_epoch = models.PositiveIntegerField(
        default=0,
        help_text="Raised by 'sign out everywhere': every session signed in before ends.",
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
            # Two districts may each have a "teacher14"; within one district a username is one
            # person. Platform operators (no district) have usernames unique among themselves.
            models.UniqueConstraint(
                fields=["district", "username"],
                condition=Q(district__isnull=False),
                name="user_username_unique_in_district",
                violation_error_message="Another account of this district has this username.",
            ),
            models.UniqueConstraint(
                fields=["username"],
                condition=Q(district__isnull=True),
                name="user_username_unique_without_district",
                violation_error_message="Another platform operator has this username.",
            ),
            # A superuser is a platform operator and belongs to no district, so no district
            # admin ever sees, changes or resets one.
            models.CheckConstraint(
                condition=Q(is_superuser=False) | Q(district__isnull=True),
                name="user_superuser_has_no_district",
                violation_error_message="A superuser belongs to no district.",
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def get_session_auth_hash(self) -> str:
        """Django checks this on every request: a session ends when the password changes (as
        by default) or when the person signs out everywhere (``sessions_epoch``)."""
        return salted_hmac(
            "thinslice.classrooms.User.get_session_auth_hash",
            f"{self.password}|{self.sessions_epoch}",
            algorithm="sha256",
        ).hexdigest()


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
    ROSTER_ROLLBACK = "roster_rollback", "Roster import rolled back"
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


class RosterImport(models.Model):
    """An applied roster import and, in its changes, what it did, so that a district admin can
    roll it back while no later change touched the same rows (classrooms/oneroster/undo.py)."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="roster_imports")
    audit_event = models.OneToOneField(
        AuditEvent, on_delete=models.PROTECT, related_name="roster_import"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    rolled_back_at = models.DateTimeField(null=True, blank=True)
    rollback_event = models.OneToOneField(
        AuditEvent,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="roster_rollback",
    )

    objects = RosterImportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Roster import #{self.pk}"


class RosterChangeAction(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    DELETED = "deleted", "Deleted"


class RosterImportChange(models.Model):
    """One row an import created, updated (``old``: each changed field's value before, ``new``:
    after) or deleted (a teacher assignment). ``student`` ties the rows about a student to them,
    so deleting a student's data deletes what imports recorded of them too."""

    roster_import = models.ForeignKey(
        RosterImport, on_delete=models.CASCADE, related_name="changes"
    )
    position = models.PositiveIntegerField(help_text="The order the import wrote the rows in.")
    model = models.CharField(max_length=80)
    object_id = models.BigIntegerField()
    action = models.CharField(max_length=10, choices=RosterChangeAction.choices)
    old = models.JSONField(default=dict, blank=True)
    new = models.JSONField(default=dict, blank=True)
    student = models.ForeignKey(
        Student, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    objects = RosterImportChangeQuerySet.as_manager()

    class Meta:
        ordering = ["roster_import", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["roster_import", "position"], name="roster_change_position_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.model} #{self.object_id}"

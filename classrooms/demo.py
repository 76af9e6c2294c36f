"""Demo and benchmark data: one realistic district with a fall term of thin-slice scores.

The rules the generated district follows:

- Calendar: academic year 2026–27 (2026-08-17 to 2027-06-11) with a Fall and a Spring term. The
  data is a snapshot as of Monday 2026-11-23 (``SNAPSHOT_DATE``), hard-coded so the same seed
  always gives the same rows whatever day the command runs.
- Schools: at least 3, one per ~200 students for small districts, growing with the square root
  of the student count for large ones (100 000 students give about 50 schools).
- Grades 3 to 5. Each grade of a school is split into homerooms of about 25 students; a homeroom
  teacher teaches its Math and its ELA section (a Fall classroom each), so every student sits in
  one Math and one ELA classroom of their grade. One learning-support teacher per school
  co-teaches about a tenth of its classrooms. One coach per two schools, one district admin.
- Student groups: English learners (~15%), students with IEPs (~12%) and economically
  disadvantaged students (~40%), with modest average gaps so equity reports have something to
  show.
- Units, built through ``units.services.unit_plan_save``: per subject and grade, one completed
  unit (from 2026-09-07) and one in progress (from 2026-10-26, in its week 5 on the snapshot
  date). Each has a pre-assessment in week 1, checkpoints in weeks 3 and 5 and a
  post-assessment in week 8; an assessment has scores once its due week has ended.
- Scores: a student's level on a skill is their latent ability plus their growth rate times the
  progress through the unit, plus classroom, unit, skill and noise terms, rounded to half
  points within 0..max. Most students grow; some start at the ceiling (pre ≥ 90%), some
  decline a little, a few join late (no scores before they enrolled). About 3% of student ×
  assessment results are absent and 1% of skill scores exempt.
- Randomness comes only from ``random.Random(seed)`` and generators derived from it, drawn in a
  fixed order, so the same seed gives the same students and scores in any database.

Rows are bulk-inserted one school at a time so memory stays bounded: rows that need their ids
back through ``bulk_create``, the rest (enrollments, memberships, scores) by COPY on PostgreSQL
and by ``bulk_create`` elsewhere.
"""

from __future__ import annotations

import datetime
import math
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.text import slugify

from assessments.models import Score, ScoreStatus
from classrooms.models import (
    AcademicYear,
    Classroom,
    District,
    Enrollment,
    School,
    Student,
    StudentGroup,
    Term,
    User,
)
from units.models import AssessmentKind, AssessmentSkill, ClassroomUnit, Unit
from units.services import AssessmentSpec, MeasureSpec, PlanSpec, SkillSpec, unit_plan_save

DEMO_DISTRICT_NAME = "Riverbend Unified"
DEMO_PASSWORD = "thinslice-demo"  # noqa: S105 -- a published demo password, never a real one
DEMO_URL = "http://127.0.0.1:8000/"
MIN_STUDENTS = 30

ACADEMIC_YEAR = ("2026–27", datetime.date(2026, 8, 17), datetime.date(2027, 6, 11))
FALL_TERM = ("Fall", datetime.date(2026, 8, 17), datetime.date(2027, 1, 15))
SPRING_TERM = ("Spring", datetime.date(2027, 1, 19), datetime.date(2027, 6, 11))
COMPLETED_UNIT_START = datetime.date(2026, 9, 7)
CURRENT_UNIT_START = datetime.date(2026, 10, 26)
LATE_ENROLLMENT_START = datetime.date(2026, 10, 5)
SNAPSHOT_DATE = datetime.date(2026, 11, 23)
UNIT_WEEKS = 8
CHECKPOINT_WEEKS = (3, 5)
PRE_POST_MAX_POINTS = (4, 5, 6, 10)
CHECKPOINT_MAX_POINTS = (4, 5, 6)

GRADES = ("3", "4", "5")
SUBJECTS = ("Math", "ELA")
CLASS_SIZE = 25
STUDENTS_PER_SMALL_SCHOOL = 200
SCHOOLS_PER_COACH = 2
CO_TEACHING_SHARE = 0.10
LATE_JOINER_SHARE = 0.02
CEILING_SHARE = 0.05
DECLINING_SHARE = 0.06
ABSENT_SHARE = 0.03
EXEMPT_SHARE = 0.01

# Fractions of max points: an average student starts near half marks and gains about a quarter.
MEAN_ABILITY = 0.47
ABILITY_SPREAD = 0.14
MEAN_GROWTH = 0.24
GROWTH_SPREAD = 0.11
CLASSROOM_ABILITY_SPREAD = 0.03
CLASSROOM_GROWTH_SPREAD = 0.07
UNIT_SHIFT_SPREAD = 0.04
SKILL_DIFFICULTY_SPREAD = 0.05
SCORE_NOISE = 0.07

BATCH_SIZE = 5000
COPY_BATCH_SIZE = 50_000
SECONDS_PER_STUDENT_ENTRY = 20

_SCORED = str(ScoreStatus.SCORED.value)
_ABSENT = str(ScoreStatus.ABSENT.value)
_EXEMPT = str(ScoreStatus.EXEMPT.value)

FIRST_NAMES = (
    "Aaliyah", "Aarav", "Abigail", "Adrian", "Aiden", "Aisha", "Alejandro", "Amara", "Amelia",
    "Andre", "Anika", "Ava", "Benjamin", "Brooklyn", "Caleb", "Camila", "Carlos", "Charlotte",
    "Chloe", "Daniel", "Darius", "David", "Diego", "Elena", "Eli", "Elijah", "Emma", "Ethan",
    "Evelyn", "Fatima", "Gabriel", "Grace", "Hana", "Harper", "Hassan", "Isabella", "Isaiah",
    "Jada", "Jamal", "Jasmine", "Javier", "Jayden", "Jin", "Jonah", "Joseph", "Julia", "Kai",
    "Kayla", "Keanu", "Layla", "Leah", "Leo", "Liam", "Lucas", "Lucia", "Luna", "Malik", "Maria",
    "Mason", "Mateo", "Maya", "Mei", "Mia", "Mohammed", "Naomi", "Nathan", "Nia", "Noah",
    "Nora", "Olivia", "Omar", "Priya", "Rafael", "Riley", "Rohan", "Rosa", "Ruby", "Samuel",
    "Santiago", "Sara", "Sebastian", "Sofia", "Tariq", "Thomas", "Valentina", "Wei", "William",
    "Ximena", "Yusuf", "Zara", "Zoe",
)  # fmt: skip
FAMILY_NAMES = (
    "Abdullah", "Adams", "Ahmed", "Alvarez", "Anderson", "Baker", "Begay", "Brown", "Castillo",
    "Chen", "Clark", "Cruz", "Davis", "Diaz", "Dubois", "Edwards", "Evans", "Fernandez",
    "Flores", "Garcia", "Goldberg", "Gomez", "Green", "Gupta", "Hall", "Haddad", "Harris",
    "Hernandez", "Hill", "Ibrahim", "Jackson", "Johnson", "Jones", "Kim", "King", "Kowalski",
    "Lee", "Lewis", "Lopez", "Martin", "Martinez", "Mendoza", "Miller", "Moore", "Morales",
    "Murphy", "Nakamura", "Nguyen", "Novak", "O'Brien", "Okafor", "Ortiz", "Park", "Patel",
    "Perez", "Phillips", "Quispe", "Ramirez", "Reyes", "Rivera", "Robinson", "Rodriguez",
    "Rossi", "Sanchez", "Santos", "Schmidt", "Scott", "Shah", "Singh", "Smith", "Sullivan",
    "Tanaka", "Taylor", "Thomas", "Thompson", "Torres", "Tran", "Walker", "Washington",
    "White", "Williams", "Wilson", "Wright", "Yamamoto", "Yang", "Young", "Zhang",
)  # fmt: skip
SCHOOL_PLACES = (
    "Lincoln", "Washington", "Jefferson", "Roosevelt", "Maple Grove", "Cedar Park", "Oak Hill",
    "Riverside", "Lakeview", "Pine Ridge", "Sunnyside", "Meadowbrook", "Willow Creek",
    "Hillcrest", "Brookside", "Fairview", "Highland", "Northgate", "Southwood", "Eastlake",
    "Westwood", "Green Valley", "Stonebridge", "Harbor View", "Mountain View", "Prairie Wind",
    "Silver Lake", "Bluebird", "Cottonwood", "Aspen", "Sequoia", "Juniper", "Magnolia",
    "Cesar Chavez", "Martin Luther King Jr.", "Frederick Douglass", "Harriet Tubman",
    "Marie Curie", "George Washington Carver", "Sally Ride",
)  # fmt: skip
SCHOOL_KINDS = ("Elementary", "Academy", "Primary")


@dataclass(frozen=True)
class DemoLogin:
    """A demo account someone can sign in with."""

    role: str
    username: str
    password: str


@dataclass(frozen=True)
class _UnitTemplate:
    title: str
    skills: tuple[tuple[str, str], ...]  # (code, description)


# Per subject and grade: the completed unit, then the one in progress.
_UNIT_CATALOG: dict[tuple[str, str], tuple[_UnitTemplate, _UnitTemplate]] = {
    ("Math", "3"): (
        _UnitTemplate(
            "Grade 3 Math: Multiplication and Division Within 100",
            (
                ("3.OA.1", "Interpret products of whole numbers"),
                ("3.OA.5", "Apply properties of operations to multiply and divide"),
                ("3.OA.7", "Multiply and divide fluently within 100"),
            ),
        ),
        _UnitTemplate(
            "Grade 3 Math: Fractions on the Number Line",
            (
                ("3.NF.1", "Understand a fraction 1/b as one part of a whole"),
                ("3.NF.2", "Represent fractions on a number line"),
                ("3.NF.3", "Compare fractions by reasoning about their size"),
            ),
        ),
    ),
    ("Math", "4"): (
        _UnitTemplate(
            "Grade 4 Math: Multi-Digit Multiplication and Division",
            (
                ("4.NBT.5", "Multiply a whole number of up to four digits by a one-digit number"),
                ("4.NBT.6", "Divide up to four-digit dividends by one-digit divisors"),
                ("4.OA.3", "Solve multistep word problems with whole numbers"),
            ),
        ),
        _UnitTemplate(
            "Grade 4 Math: Fraction Equivalence and Operations",
            (
                ("4.NF.1", "Explain why fractions are equivalent"),
                ("4.NF.2", "Compare fractions with different numerators and denominators"),
                ("4.NF.3", "Add and subtract fractions with like denominators"),
            ),
        ),
    ),
    ("Math", "5"): (
        _UnitTemplate(
            "Grade 5 Math: Place Value and Decimals",
            (
                ("5.NBT.1", "Recognize place value patterns in multi-digit numbers"),
                ("5.NBT.3", "Read, write and compare decimals to thousandths"),
                ("5.NBT.7", "Add, subtract, multiply and divide decimals to hundredths"),
            ),
        ),
        _UnitTemplate(
            "Grade 5 Math: Adding and Subtracting Fractions",
            (
                ("5.NF.1", "Add and subtract fractions with unlike denominators"),
                ("5.NF.2", "Solve word problems involving fractions"),
                ("5.NF.4", "Multiply a fraction by a whole number or a fraction"),
            ),
        ),
    ),
    ("ELA", "3"): (
        _UnitTemplate(
            "Grade 3 ELA: Stories and Their Lessons",
            (
                ("RL.3.1", "Ask and answer questions about a text"),
                ("RL.3.2", "Recount stories and find their central message"),
                ("RL.3.3", "Describe characters and how their actions shape events"),
            ),
        ),
        _UnitTemplate(
            "Grade 3 ELA: Opinion Writing",
            (
                ("W.3.1", "Write opinion pieces supported by reasons"),
                ("L.3.1", "Use standard English grammar"),
                ("L.3.2", "Use capitalization, punctuation and spelling"),
            ),
        ),
    ),
    ("ELA", "4"): (
        _UnitTemplate(
            "Grade 4 ELA: Myths and Themes",
            (
                ("RL.4.1", "Refer to details and examples when explaining a text"),
                ("RL.4.2", "Determine a theme from details in a text"),
                ("RL.4.3", "Describe a character, setting or event in depth"),
            ),
        ),
        _UnitTemplate(
            "Grade 4 ELA: Informational Reading and Writing",
            (
                ("RI.4.2", "Determine the main idea and its supporting details"),
                ("RI.4.5", "Describe the structure of a text"),
                ("W.4.2", "Write informative texts that explain a topic clearly"),
            ),
        ),
    ),
    ("ELA", "5"): (
        _UnitTemplate(
            "Grade 5 ELA: Character and Conflict",
            (
                ("RL.5.1", "Quote accurately when drawing inferences"),
                ("RL.5.2", "Determine a theme and summarize a text"),
                ("RL.5.3", "Compare and contrast characters, settings or events"),
            ),
        ),
        _UnitTemplate(
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
class _GroupProfile:
    """A student group, the share of students in it and its average gaps (fractions of max)."""

    name: str
    share: float
    ability_gap: dict[str, float]
    growth_gap: float


_GROUP_PROFILES = (
    _GroupProfile("English learners", 0.15, {"Math": -0.03, "ELA": -0.09}, 0.0),
    _GroupProfile("Students with IEPs", 0.12, {"Math": -0.10, "ELA": -0.10}, -0.04),
    _GroupProfile("Economically disadvantaged", 0.40, {"Math": -0.05, "ELA": -0.05}, -0.01),
)


@dataclass(frozen=True)
class _Measure:
    assessment_skill_id: int
    max_points: int
    difficulty: float


@dataclass(frozen=True)
class _ScoredAssessment:
    """An assessment whose due week ended before the snapshot date, so it has scores."""

    week: int
    progress: float  # 0 at the pre-assessment, 1 at the post-assessment
    measures: tuple[_Measure, ...]


@dataclass(frozen=True)
class _DemoUnit:
    unit_id: int
    start_date: datetime.date
    scored_assessments: tuple[_ScoredAssessment, ...]


@dataclass(slots=True)
class _Learner:
    """A student and the hidden traits their scores are drawn from (fractions of max points)."""

    student: Student
    enrolled_on: datetime.date
    group_ids: list[int]
    ability: dict[str, float]
    growth: dict[str, float]


@dataclass(slots=True)
class _Homeroom:
    grade: str
    section: int
    teacher: User
    roster: list[_Learner]
    classrooms: list[Classroom] = field(default_factory=list)


class _RowSink:
    """Buffers rows of one table and writes them in batches: COPY on PostgreSQL, else bulk_create.

    Only for rows whose ids nobody needs back; ``attnames`` name the columns of each row tuple.
    """

    def __init__(self, model: type[models.Model], attnames: Sequence[str]) -> None:
        self.model = model
        self.attnames = tuple(attnames)
        self.rows: list[tuple[Any, ...]] = []
        self.written = 0
        self.uses_copy = connection.vendor == "postgresql"
        self.flush_at = COPY_BATCH_SIZE if self.uses_copy else BATCH_SIZE

    def add(self, row: tuple[Any, ...]) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.flush_at:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        if self.uses_copy:
            self._copy()
        else:
            self.model._default_manager.bulk_create(
                [self.model(**dict(zip(self.attnames, row, strict=True))) for row in self.rows],
                batch_size=BATCH_SIZE,
            )
        self.written += len(self.rows)
        self.rows.clear()

    def _copy(self) -> None:
        quote = connection.ops.quote_name
        concrete_fields = self.model._meta.concrete_fields
        column_of = {f.attname: f.column for f in concrete_fields if f.column is not None}
        columns = ", ".join(quote(column_of[attname]) for attname in self.attnames)
        statement = f"COPY {quote(self.model._meta.db_table)} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for row in self.rows:
                copy.write_row(row)


class _StaffRoster:
    """Makes staff accounts named ``<prefix><role>``, ``<prefix><role>2``, … in creation order."""

    def __init__(
        self, *, district: District, prefix: str, password_hash: str, rng: random.Random
    ) -> None:
        self.district = district
        self.prefix = prefix
        self.password_hash = password_hash
        self.rng = rng
        self.counts: dict[str, int] = {}

    def new(self, role: str, **flags: bool) -> User:
        """An unsaved account for ``role``; save it with ``save_all``."""
        number = self.counts.get(role, 0) + 1
        self.counts[role] = number
        username = demo_username(self.prefix, role, number)
        return User(
            username=username,
            first_name=self.rng.choice(FIRST_NAMES),
            last_name=self.rng.choice(FAMILY_NAMES),
            email=f"{username}@example.org",
            password=self.password_hash,
            district=self.district,
            **flags,
        )

    @staticmethod
    def save_all(users: list[User]) -> None:
        User.objects.bulk_create(users, batch_size=BATCH_SIZE)
        _require_ids(users)


@dataclass
class _Sinks:
    group_members: _RowSink
    classroom_teachers: _RowSink
    enrollments: _RowSink
    scores: _RowSink

    @classmethod
    def open(cls) -> _Sinks:
        return cls(
            group_members=_RowSink(Student.groups.through, ("student_id", "studentgroup_id")),
            classroom_teachers=_RowSink(Classroom.teachers.through, ("classroom_id", "user_id")),
            enrollments=_RowSink(
                Enrollment, ("student_id", "classroom_id", "start_date", "end_date")
            ),
            scores=_RowSink(
                Score,
                (
                    "classroom_unit_id",
                    "student_id",
                    "assessment_skill_id",
                    "status",
                    "points",
                    "entered_by_id",
                    "entered_at",
                    "version",
                ),
            ),
        )

    def flush(self) -> None:
        for sink in (self.group_members, self.classroom_teachers, self.enrollments, self.scores):
            sink.flush()


@dataclass
class _SeedRun:
    """What every school of one seed shares."""

    district: District
    fall_term: Term
    groups: list[tuple[_GroupProfile, StudentGroup]]
    units: dict[tuple[str, str], list[_DemoUnit]]
    staff: _StaffRoster
    sinks: _Sinks
    sis_ids: Iterator[str]
    half_points: list[Decimal]
    classroom_count: int = 0
    student_count: int = 0


def demo_username_prefix(district_name: str) -> str:
    """'' for the default demo district, else a slug of the name and a dash ('northfield-')."""
    if district_name == DEMO_DISTRICT_NAME:
        return ""
    slug = slugify(district_name)
    if not slug:
        raise ValidationError(
            f"Give the district a name with letters or digits (not {district_name!r})."
        )
    return f"{slug}-"


def demo_username(prefix: str, role: str, number: int = 1) -> str:
    """The demo account name: the first of a role is plain ('teacher'), then 'teacher2', …"""
    return f"{prefix}{role}" if number == 1 else f"{prefix}{role}{number}"


def demo_login_list(*, username_prefix: str, password: str) -> list[DemoLogin]:
    """The main demo logins (admin, coach, teacher) with this prefix that exist."""
    wanted = [
        ("district admin", demo_username(username_prefix, "admin")),
        ("coach", demo_username(username_prefix, "coach")),
        ("teacher", demo_username(username_prefix, "teacher")),
    ]
    # cross-tenant: the seeding command runs outside any user's scope.
    existing = set(
        User.objects.all_schools()
        .filter(username__in=[username for _, username in wanted])
        .values_list("username", flat=True)
    )
    return [
        DemoLogin(role=role, username=username, password=password)
        for role, username in wanted
        if username in existing
    ]


def district_exists_any() -> bool:
    """Whether the database holds any district at all (a demo or real data)."""
    # cross-tenant: deciding whether to seed looks at the whole database.
    return District.objects.all_schools().exists()


def demo_school_count(students: int) -> int:
    """At least 3 schools; one per ~200 students while small, ~sqrt(students) / 6 when large."""
    by_size = math.ceil(students / STUDENTS_PER_SMALL_SCHOOL)
    by_square_root = round(math.sqrt(students) / 6)
    return max(3, min(by_size, by_square_root))


@transaction.atomic
def demo_district_seed(
    *,
    name: str,
    students: int,
    seed: int,
    username_prefix: str,
    password: str,
    on_progress: Callable[[str], None] | None = None,
) -> list[DemoLogin]:
    """Create a complete demo district (see the module docstring), all or nothing.

    The district name must be new and no account may already carry one of its demo usernames
    (``<prefix>admin``, ``<prefix>coach…``, ``<prefix>teacher…``). All demo accounts share
    ``password``. Returns the main logins: district admin, coach and teacher.
    """
    if students < MIN_STUDENTS:
        raise ValidationError(f"A demo district needs at least {MIN_STUDENTS} students.")
    _require_new_district(name=name, username_prefix=username_prefix)
    report = on_progress or _ignore
    rng = random.Random(seed)  # noqa: S311 -- reproducible demo data, not security

    district = District(name=name)
    district.full_clean()
    district.save()
    fall_term = _calendar_create(district)
    groups = [
        (profile, StudentGroup.objects.create(district=district, name=profile.name))
        for profile in _GROUP_PROFILES
    ]
    staff = _StaffRoster(
        district=district,
        prefix=username_prefix,
        password_hash=make_password(password),  # hashed once: hashing is deliberately slow
        rng=rng,
    )
    admin = staff.new("admin", is_district_admin=True, is_staff=True)
    staff.save_all([admin])
    units = _units_create(district=district, actor=admin, rng=rng)
    max_points = max(PRE_POST_MAX_POINTS + CHECKPOINT_MAX_POINTS)
    run = _SeedRun(
        district=district,
        fall_term=fall_term,
        groups=groups,
        units=units,
        staff=staff,
        sinks=_Sinks.open(),
        sis_ids=iter(_sis_ids(students, rng)),
        half_points=[Decimal(half) / 2 for half in range(2 * max_points + 1)],
    )

    school_count = demo_school_count(students)
    schools = _schools_create(district=district, count=school_count, rng=rng)
    _coaches_assign(schools=schools, staff=staff)
    school_sizes = _apportion(students, [rng.uniform(0.75, 1.25) for _ in schools])
    school_seeds = [rng.getrandbits(64) for _ in schools]
    for number, (school, size, school_seed) in enumerate(
        zip(schools, school_sizes, school_seeds, strict=True), start=1
    ):
        school_rng = random.Random(school_seed)  # noqa: S311 -- reproducible demo data
        _school_populate(run=run, school=school, students=size, rng=school_rng)
        report(f"  {number}/{school_count} {school.name}: {size} students")
    run.sinks.flush()
    _statistics_refresh()

    unit_count = sum(len(subject_units) for subject_units in units.values())
    report(
        f"{district.name}: {school_count} schools, {run.classroom_count} classrooms, "
        f"{run.student_count} students, {unit_count} units, "
        f"{run.sinks.scores.written} scores."
    )
    return demo_login_list(username_prefix=username_prefix, password=password)


def _ignore(_message: str) -> None:
    return None


def _require_new_district(*, name: str, username_prefix: str) -> None:
    # cross-tenant: a new district's name and usernames must be free across the whole database.
    if District.objects.all_schools().filter(name=name).exists():
        raise ValidationError(
            f"A district called '{name}' exists already; seed another name with --district."
        )
    demo_usernames = rf"^{re.escape(username_prefix)}(admin|coach|teacher)[0-9]*$"
    taken = User.objects.all_schools().filter(username__regex=demo_usernames)
    if taken.exists():
        raise ValidationError(
            f"The username '{taken.order_by('username').first()}' is taken, so the demo "
            f"accounts of '{name}' cannot be created; seed another name with --district."
        )


def _require_ids(rows: Sequence[models.Model]) -> None:
    # bulk_create sets ids on PostgreSQL and SQLite ≥ 3.35; rows without one cannot be linked.
    if any(row.pk is None for row in rows):
        raise RuntimeError("The demo seed needs a database that returns ids from bulk inserts.")


def _calendar_create(district: District) -> Term:
    """The hard-coded 2026–27 year with its Fall and Spring terms; returns Fall."""
    year_name, year_start, year_end = ACADEMIC_YEAR
    year = AcademicYear.objects.create(
        district=district, name=year_name, start_date=year_start, end_date=year_end
    )
    fall_name, fall_start, fall_end = FALL_TERM
    spring_name, spring_start, spring_end = SPRING_TERM
    Term.objects.create(
        academic_year=year, name=spring_name, start_date=spring_start, end_date=spring_end
    )
    return Term.objects.create(
        academic_year=year, name=fall_name, start_date=fall_start, end_date=fall_end
    )


def _units_create(
    *, district: District, actor: User, rng: random.Random
) -> dict[tuple[str, str], list[_DemoUnit]]:
    units: dict[tuple[str, str], list[_DemoUnit]] = {}
    for subject in SUBJECTS:
        for grade in GRADES:
            completed, in_progress = _UNIT_CATALOG[(subject, grade)]
            units[(subject, grade)] = [
                _unit_create(
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


def _unit_create(
    *,
    district: District,
    actor: User,
    subject: str,
    grade: str,
    template: _UnitTemplate,
    start_date: datetime.date,
    rng: random.Random,
) -> _DemoUnit:
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
    )
    measured = (
        AssessmentSkill.objects.filter(assessment__unit=unit)
        .select_related("assessment", "skill")
        .order_by("assessment__week", "skill__code")
    )
    measures_by_week: dict[int, list[_Measure]] = {}
    for assessment_skill in measured:
        measures_by_week.setdefault(assessment_skill.assessment.week, []).append(
            _Measure(
                assessment_skill_id=assessment_skill.pk,
                max_points=int(assessment_skill.max_points),
                difficulty=rng.gauss(0, SKILL_DIFFICULTY_SPREAD),
            )
        )
    scored = tuple(
        _ScoredAssessment(
            week=week, progress=(week - 1) / (unit.weeks - 1), measures=tuple(measures)
        )
        for week, measures in measures_by_week.items()
        if _due_week_start(start_date, week) + datetime.timedelta(weeks=1) <= SNAPSHOT_DATE
    )
    return _DemoUnit(unit_id=unit.pk, start_date=start_date, scored_assessments=scored)


def _due_week_start(unit_start: datetime.date, week: int) -> datetime.date:
    return unit_start + datetime.timedelta(weeks=week - 1)


def _sis_ids(count: int, rng: random.Random) -> list[str]:
    """Distinct seven-digit ids, the way student information systems number learners."""
    return [str(number) for number in rng.sample(range(1_000_000, 10_000_000), count)]


def _school_names(rng: random.Random) -> Iterator[str]:
    places = list(SCHOOL_PLACES)
    rng.shuffle(places)
    for kind in SCHOOL_KINDS:
        for place in places:
            yield f"{place} {kind}"
    number = 2
    while True:  # only districts far beyond 100 000 students get here
        for place in places:
            yield f"{place} Elementary No. {number}"
        number += 1


def _schools_create(*, district: District, count: int, rng: random.Random) -> list[School]:
    names = _school_names(rng)
    schools = [
        School(district=district, name=next(names), code=str(101 + index)) for index in range(count)
    ]
    School.objects.bulk_create(schools, batch_size=BATCH_SIZE)
    _require_ids(schools)
    return schools


def _coaches_assign(*, schools: list[School], staff: _StaffRoster) -> None:
    """One coach per pair of schools, in school order (the first coach has the first schools)."""
    pairs = [
        schools[start : start + SCHOOLS_PER_COACH]
        for start in range(0, len(schools), SCHOOLS_PER_COACH)
    ]
    coaches = [staff.new("coach") for _ in pairs]
    staff.save_all(coaches)
    School.coaches.through.objects.bulk_create(
        [
            School.coaches.through(school_id=school.pk, user_id=coach.pk)
            for coach, coached in zip(coaches, pairs, strict=True)
            for school in coached
        ],
        batch_size=BATCH_SIZE,
    )


def _apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights``, by largest remainder (sums exactly)."""
    scale = total / sum(weights)
    exact = [weight * scale for weight in weights]
    shares = [math.floor(value) for value in exact]
    by_remainder = sorted(
        range(len(weights)), key=lambda index: (shares[index] - exact[index], index)
    )
    for index in by_remainder[: total - sum(shares)]:
        shares[index] += 1
    return shares


def _school_populate(*, run: _SeedRun, school: School, students: int, rng: random.Random) -> None:
    """Students, homerooms, classrooms, enrollments, classroom units and scores of one school."""
    grade_sizes = _apportion(students, [rng.uniform(0.9, 1.1) for _ in GRADES])
    learners_by_grade = {
        grade: [_learner_draw(run=run, grade=grade, rng=rng) for _ in range(size)]
        for grade, size in zip(GRADES, grade_sizes, strict=True)
    }
    all_learners = [learner for learners in learners_by_grade.values() for learner in learners]
    new_students = [learner.student for learner in all_learners]
    Student.objects.bulk_create(new_students, batch_size=BATCH_SIZE)
    _require_ids(new_students)
    run.student_count += len(all_learners)
    for learner in all_learners:
        for group_id in learner.group_ids:
            run.sinks.group_members.add((learner.student.pk, group_id))

    homerooms = _homerooms_create(run=run, learners_by_grade=learners_by_grade, rng=rng)
    classrooms = _classrooms_create(run=run, school=school, homerooms=homerooms, rng=rng)
    for homeroom in homerooms:
        for classroom in homeroom.classrooms:
            for learner in homeroom.roster:
                run.sinks.enrollments.add(
                    (learner.student.pk, classroom.pk, learner.enrolled_on, None)
                )

    teacher_ids = {classroom.pk: ids for classroom, ids in classrooms}
    planned: list[tuple[_Homeroom, Classroom, _DemoUnit, ClassroomUnit]] = [
        (
            homeroom,
            classroom,
            demo_unit,
            ClassroomUnit(
                classroom=classroom, unit_id=demo_unit.unit_id, start_date=demo_unit.start_date
            ),
        )
        for homeroom in homerooms
        for classroom in homeroom.classrooms
        for demo_unit in run.units[(classroom.subject, homeroom.grade)]
    ]
    classroom_units = [classroom_unit for *_context, classroom_unit in planned]
    ClassroomUnit.objects.bulk_create(classroom_units, batch_size=BATCH_SIZE)
    _require_ids(classroom_units)

    # Teachers differ: each classroom gets its own small shift in level and in growth.
    effects = {
        classroom.pk: (
            rng.gauss(0, CLASSROOM_ABILITY_SPREAD),
            rng.gauss(0, CLASSROOM_GROWTH_SPREAD),
        )
        for classroom, _ids in classrooms
    }
    for homeroom, classroom, demo_unit, classroom_unit in planned:
        ability_effect, growth_effect = effects[classroom.pk]
        _classroom_unit_scores(
            run=run,
            classroom_unit=classroom_unit,
            demo_unit=demo_unit,
            subject=classroom.subject,
            roster=homeroom.roster,
            teacher_ids=teacher_ids[classroom.pk],
            ability_effect=ability_effect,
            growth_effect=growth_effect,
            rng=rng,
        )


def _learner_draw(*, run: _SeedRun, grade: str, rng: random.Random) -> _Learner:
    """A new (unsaved) student with group memberships and hidden ability and growth per subject.

    A few start at the ceiling and barely move, a few decline slightly, the rest grow by about a
    quarter of the max points over a unit; groups carry the gaps of their profile.
    """
    student = Student(
        district=run.district,
        sis_id=next(run.sis_ids),
        given_name=rng.choice(FIRST_NAMES),
        family_name=rng.choice(FAMILY_NAMES),
        grade_level=grade,
    )
    memberships = [
        (profile, group) for profile, group in run.groups if rng.random() < profile.share
    ]
    general = rng.gauss(0, 1)  # shared across subjects: strong readers tend to be strong at math
    ability: dict[str, float] = {}
    growth: dict[str, float] = {}
    for subject in SUBJECTS:
        kind = rng.random()
        gap = sum(profile.ability_gap[subject] for profile, _group in memberships)
        growth_gap = sum(profile.growth_gap for profile, _group in memberships)
        subject_level = 0.75 * general + 0.66 * rng.gauss(0, 1)
        if kind < CEILING_SHARE:
            ability[subject] = rng.uniform(0.93, 0.99)
            growth[subject] = rng.gauss(0.02, 0.02)
            continue
        ability[subject] = min(0.88, max(0.05, MEAN_ABILITY + ABILITY_SPREAD * subject_level + gap))
        if kind < CEILING_SHARE + DECLINING_SHARE:
            growth[subject] = rng.gauss(-0.06, 0.03)
        else:
            # Students who start lower have more room and, on average, gain a little more.
            regression = -0.15 * (ability[subject] - MEAN_ABILITY)
            growth[subject] = rng.gauss(MEAN_GROWTH, GROWTH_SPREAD) + growth_gap + regression
    is_late_joiner = rng.random() < LATE_JOINER_SHARE
    return _Learner(
        student=student,
        enrolled_on=LATE_ENROLLMENT_START if is_late_joiner else FALL_TERM[1],
        group_ids=[group.pk for _profile, group in memberships],
        ability=ability,
        growth=growth,
    )


def _homerooms_create(
    *, run: _SeedRun, learners_by_grade: dict[str, list[_Learner]], rng: random.Random
) -> list[_Homeroom]:
    """Deal each grade's students into homerooms of about CLASS_SIZE, one teacher each."""
    homerooms = []
    for grade, learners in learners_by_grade.items():
        if not learners:
            continue
        shuffled = list(learners)
        rng.shuffle(shuffled)
        sections = max(1, round(len(shuffled) / CLASS_SIZE))
        for section in range(sections):
            homerooms.append(
                _Homeroom(
                    grade=grade,
                    section=section + 1,
                    teacher=run.staff.new("teacher"),
                    roster=shuffled[section::sections],
                )
            )
    return homerooms


def _classrooms_create(
    *, run: _SeedRun, school: School, homerooms: list[_Homeroom], rng: random.Random
) -> list[tuple[Classroom, list[int]]]:
    """A Math and an ELA classroom per homeroom; returns each classroom with its teacher ids.

    The school's learning-support teacher co-teaches about CO_TEACHING_SHARE of them (at least
    one).
    """
    co_teacher = run.staff.new("teacher")
    run.staff.save_all([homeroom.teacher for homeroom in homerooms] + [co_teacher])
    for homeroom in homerooms:
        homeroom.classrooms = [
            Classroom(
                school=school,
                term=run.fall_term,
                name=f"Grade {homeroom.grade} {subject}, section {homeroom.section}",
                subject=subject,
                grade_level=homeroom.grade,
            )
            for subject in SUBJECTS
        ]
    classrooms = [classroom for homeroom in homerooms for classroom in homeroom.classrooms]
    Classroom.objects.bulk_create(classrooms, batch_size=BATCH_SIZE)
    _require_ids(classrooms)
    run.classroom_count += len(classrooms)

    co_taught = {classroom.pk for classroom in classrooms if rng.random() < CO_TEACHING_SHARE}
    if not co_taught:
        co_taught = {rng.choice(classrooms).pk}
    with_teachers = []
    for homeroom in homerooms:
        for classroom in homeroom.classrooms:
            teacher_ids = [homeroom.teacher.pk]
            if classroom.pk in co_taught:
                teacher_ids.append(co_teacher.pk)
            for teacher_id in teacher_ids:
                run.sinks.classroom_teachers.add((classroom.pk, teacher_id))
            with_teachers.append((classroom, teacher_ids))
    return with_teachers


def _classroom_unit_scores(
    *,
    run: _SeedRun,
    classroom_unit: ClassroomUnit,
    demo_unit: _DemoUnit,
    subject: str,
    roster: list[_Learner],
    teacher_ids: list[int],
    ability_effect: float,
    growth_effect: float,
    rng: random.Random,
) -> None:
    """Scores of one classroom unit, for every assessment due in a week that has ended.

    A teacher enters a whole class in one sitting during the due week; a student who enrolled
    after the due week began has no score for it.
    """
    sittings = []
    for assessment in demo_unit.scored_assessments:
        due_on = _due_week_start(demo_unit.start_date, assessment.week)
        sitting_day = due_on + datetime.timedelta(days=rng.randrange(5))  # Monday to Friday
        started_at = datetime.datetime.combine(
            sitting_day, datetime.time(15, 0), tzinfo=timezone.get_default_timezone()
        ) + datetime.timedelta(minutes=rng.randrange(180))
        sittings.append((assessment, due_on, rng.choice(teacher_ids), started_at))

    add = run.sinks.scores.add
    half_points = run.half_points
    classroom_unit_id = classroom_unit.pk
    for position, learner in enumerate(roster):
        student_id = learner.student.pk
        ability = learner.ability[subject] + ability_effect + rng.gauss(0, UNIT_SHIFT_SPREAD)
        growth = learner.growth[subject] + growth_effect
        entry_offset = datetime.timedelta(seconds=position * SECONDS_PER_STUDENT_ENTRY)
        for assessment, due_on, entered_by_id, started_at in sittings:
            if learner.enrolled_on > due_on:
                continue
            entered_at = started_at + entry_offset
            is_absent = rng.random() < ABSENT_SHARE
            for measure in assessment.measures:
                key = (classroom_unit_id, student_id, measure.assessment_skill_id)
                if is_absent:
                    add((*key, _ABSENT, None, entered_by_id, entered_at, 1))
                elif rng.random() < EXEMPT_SHARE:
                    add((*key, _EXEMPT, None, entered_by_id, entered_at, 1))
                else:
                    level = (
                        ability
                        + measure.difficulty
                        + growth * assessment.progress
                        + rng.gauss(0, SCORE_NOISE)
                    )
                    halves = round(min(1.0, max(0.0, level)) * measure.max_points * 2)
                    add((*key, _SCORED, half_points[halves], entered_by_id, entered_at, 1))


def _statistics_refresh() -> None:
    """On PostgreSQL, refresh planner statistics so reports are fast right after a big seed."""
    if connection.vendor != "postgresql":
        return
    tables = [
        model._meta.db_table
        for model in (Student, Enrollment, Classroom, ClassroomUnit, Score, User)
    ]
    quoted = ", ".join(connection.ops.quote_name(table) for table in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {quoted}")

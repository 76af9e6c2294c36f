"""People and schools of the demo district: its calendar, schools, staff, students and groups,
homerooms and classrooms, and the demo logins.

Students are drawn with hidden traits (ability and growth per subject, group gaps) that the
scores are later drawn from (scores.py). Randomness comes only from the ``rng`` handed in.
"""

from __future__ import annotations

import datetime
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.text import slugify

from classrooms.models import (
    AcademicYear,
    Classroom,
    District,
    School,
    Student,
    StudentGroup,
    Term,
    User,
)
from reports.demo.rows import BATCH_SIZE, RowSink, require_ids
from reports.demo.shape import (
    ABILITY_SPREAD,
    ACADEMIC_YEAR,
    CEILING_SHARE,
    CLASS_SIZE,
    CO_TEACHING_SHARE,
    DECLINING_SHARE,
    DEMO_DISTRICT_NAME,
    FALL_TERM,
    GROWTH_SPREAD,
    LATE_ENROLLMENT_START,
    LATE_JOINER_SHARE,
    MEAN_ABILITY,
    MEAN_GROWTH,
    SCHOOLS_PER_COACH,
    SPRING_TERM,
    STUDENTS_PER_SMALL_SCHOOL,
    SUBJECTS,
)

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
class GroupProfile:
    """A student group, the share of students in it and its average gaps (fractions of max)."""

    name: str
    share: float
    ability_gap: dict[str, float]
    growth_gap: float


GROUP_PROFILES = (
    GroupProfile("English learners", 0.15, {"Math": -0.03, "ELA": -0.09}, 0.0),
    GroupProfile("Students with IEPs", 0.12, {"Math": -0.10, "ELA": -0.10}, -0.04),
    GroupProfile("Economically disadvantaged", 0.40, {"Math": -0.05, "ELA": -0.05}, -0.01),
)


@dataclass(slots=True)
class Learner:
    """A student and the hidden traits their scores are drawn from (fractions of max points)."""

    student: Student
    enrolled_on: datetime.date
    group_ids: list[int]
    ability: dict[str, float]
    growth: dict[str, float]


@dataclass(slots=True)
class Homeroom:
    grade: str
    section: int
    teacher: User
    roster: list[Learner]
    classrooms: list[Classroom] = field(default_factory=list)


class StaffRoster:
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
        require_ids(users)


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


def demo_school_count(students: int) -> int:
    """At least 3 schools; one per ~200 students while small, ~sqrt(students) / 6 when large."""
    by_size = math.ceil(students / STUDENTS_PER_SMALL_SCHOOL)
    by_square_root = round(math.sqrt(students) / 6)
    return max(3, min(by_size, by_square_root))


def calendar_create(district: District) -> Term:
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


def distinct_sis_ids(count: int, rng: random.Random) -> list[str]:
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


def schools_create(*, district: District, count: int, rng: random.Random) -> list[School]:
    names = _school_names(rng)
    schools = [
        School(district=district, name=next(names), code=str(101 + index)) for index in range(count)
    ]
    School.objects.bulk_create(schools, batch_size=BATCH_SIZE)
    require_ids(schools)
    return schools


def coaches_assign(*, schools: list[School], staff: StaffRoster) -> None:
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


def apportion(total: int, weights: Sequence[float]) -> list[int]:
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


def learner_draw(
    *,
    district: District,
    sis_ids: Iterator[str],
    groups: list[tuple[GroupProfile, StudentGroup]],
    grade: str,
    rng: random.Random,
) -> Learner:
    """A new (unsaved) student with group memberships and hidden ability and growth per subject.

    A few start at the ceiling and barely move, a few decline slightly, the rest grow by about a
    quarter of the max points over a unit; groups carry the gaps of their profile.
    """
    student = Student(
        district=district,
        sis_id=next(sis_ids),
        given_name=rng.choice(FIRST_NAMES),
        family_name=rng.choice(FAMILY_NAMES),
        grade_level=grade,
    )
    memberships = [(profile, group) for profile, group in groups if rng.random() < profile.share]
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
    return Learner(
        student=student,
        enrolled_on=LATE_ENROLLMENT_START if is_late_joiner else FALL_TERM[1],
        group_ids=[group.pk for _profile, group in memberships],
        ability=ability,
        growth=growth,
    )


def homerooms_create(
    *, staff: StaffRoster, learners_by_grade: dict[str, list[Learner]], rng: random.Random
) -> list[Homeroom]:
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
                Homeroom(
                    grade=grade,
                    section=section + 1,
                    teacher=staff.new("teacher"),
                    roster=shuffled[section::sections],
                )
            )
    return homerooms


def classrooms_create(
    *,
    staff: StaffRoster,
    school: School,
    term: Term,
    homerooms: list[Homeroom],
    classroom_teachers: RowSink,
    rng: random.Random,
) -> list[tuple[Classroom, list[int]]]:
    """A Math and an ELA classroom per homeroom; returns each classroom with its teacher ids.

    The school's learning-support teacher co-teaches about CO_TEACHING_SHARE of them (at least
    one).
    """
    co_teacher = staff.new("teacher")
    staff.save_all([homeroom.teacher for homeroom in homerooms] + [co_teacher])
    for homeroom in homerooms:
        homeroom.classrooms = [
            Classroom(
                school=school,
                term=term,
                name=f"Grade {homeroom.grade} {subject}, section {homeroom.section}",
                subject=subject,
                grade_level=homeroom.grade,
            )
            for subject in SUBJECTS
        ]
    classrooms = [classroom for homeroom in homerooms for classroom in homeroom.classrooms]
    Classroom.objects.bulk_create(classrooms, batch_size=BATCH_SIZE)
    require_ids(classrooms)

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
                classroom_teachers.add((classroom.pk, teacher_id))
            with_teachers.append((classroom, teacher_ids))
    return with_teachers

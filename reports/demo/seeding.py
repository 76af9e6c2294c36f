"""Seeding one demo district, all or nothing: the orchestration of people.py, plans.py and
scores.py in a fixed order, so the same seed always gives the same rows.

Rows are bulk-inserted one school at a time so memory stays bounded (rows.py).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.text import slugify

from assessments.models import Score
from classrooms.models import (
    Classroom,
    District,
    Enrollment,
    School,
    Student,
    StudentGroup,
    Term,
    User,
)
from reports.demo.library import unit_library_seed
from reports.demo.people import (
    GROUP_PROFILES,
    DemoLogin,
    GroupProfile,
    Homeroom,
    StaffRoster,
    apportion,
    calendar_create,
    classrooms_create,
    coaches_assign,
    demo_login_list,
    demo_school_count,
    demo_username,
    distinct_sis_ids,
    homerooms_create,
    learner_draw,
    schools_create,
)
from reports.demo.plans import DemoUnit, units_create
from reports.demo.rows import BATCH_SIZE, RowSink, require_ids
from reports.demo.scores import classroom_unit_scores, half_point_values, score_sink
from reports.demo.shape import (
    CLASSROOM_ABILITY_SPREAD,
    CLASSROOM_GROWTH_SPREAD,
    COMPLETED_UNIT_START,
    GRADES,
    MIN_STUDENTS,
)
from units.models import ClassroomUnit


@dataclass
class Sinks:
    """The COPY writers of one seed: rows nobody needs the ids of, flushed at the end."""

    group_members: RowSink
    classroom_teachers: RowSink
    enrollments: RowSink
    scores: RowSink

    @classmethod
    def open(cls) -> Sinks:
        return cls(
            group_members=RowSink(Student.groups.through, ("student_id", "studentgroup_id")),
            classroom_teachers=RowSink(Classroom.teachers.through, ("classroom_id", "user_id")),
            enrollments=RowSink(
                Enrollment, ("student_id", "classroom_id", "start_date", "end_date")
            ),
            scores=score_sink(),
        )

    def flush(self) -> None:
        for sink in (self.group_members, self.classroom_teachers, self.enrollments, self.scores):
            sink.flush()


@dataclass
class SeedRun:
    """What every school of one seed shares."""

    district: District
    fall_term: Term
    groups: list[tuple[GroupProfile, StudentGroup]]
    units: dict[tuple[str, str], list[DemoUnit]]
    staff: StaffRoster
    sinks: Sinks
    sis_ids: Iterator[str]
    half_points: list[Decimal]
    classroom_count: int = 0
    student_count: int = 0


def district_exists_any() -> bool:
    """Whether the database holds any district at all (a demo or real data)."""
    # cross-tenant: deciding whether to seed looks at the whole database.
    return District.objects.all_schools().exists()


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

    district = District(name=name, slug=_free_slug(name))
    district.full_clean()
    district.save()
    fall_term = calendar_create(district)
    groups = [
        (profile, StudentGroup.objects.create(district=district, name=profile.name))
        for profile in GROUP_PROFILES
    ]
    staff = StaffRoster(
        district=district,
        prefix=username_prefix,
        password_hash=make_password(password),  # hashed once: hashing is deliberately slow
        rng=rng,
    )
    admin = staff.new("admin", is_district_admin=True, is_staff=True)
    staff.save_all([admin])
    units = units_create(district=district, actor=admin, rng=rng)
    run = SeedRun(
        district=district,
        fall_term=fall_term,
        groups=groups,
        units=units,
        staff=staff,
        sinks=Sinks.open(),
        sis_ids=iter(distinct_sis_ids(students, rng)),
        half_points=half_point_values(),
    )

    school_count = demo_school_count(students)
    schools = schools_create(district=district, count=school_count, rng=rng)
    coaches_assign(schools=schools, staff=staff)
    school_sizes = apportion(students, [rng.uniform(0.75, 1.25) for _ in schools])
    school_seeds = [rng.getrandbits(64) for _ in schools]
    for number, (school, size, school_seed) in enumerate(
        zip(schools, school_sizes, school_seeds, strict=True), start=1
    ):
        school_rng = random.Random(school_seed)  # noqa: S311 -- reproducible demo data
        _school_populate(run=run, school=school, students=size, rng=school_rng)
        report(f"  {number}/{school_count} {school.name}: {size} students")
    run.sinks.flush()
    unit_library_seed(
        district=district,
        admin=admin,
        teacher_username=demo_username(username_prefix, "teacher"),
        finished_on=COMPLETED_UNIT_START,
    )
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


def _free_slug(name: str) -> str | None:
    """The district's sign-in address from its name, when no other district has it."""
    slug = slugify(name)[:60]
    # cross-tenant: sign-in addresses are unique across districts.
    if not slug or District.objects.all_schools().filter(slug=slug).exists():
        return None
    return slug


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


def _school_populate(*, run: SeedRun, school: School, students: int, rng: random.Random) -> None:
    """Students, homerooms, classrooms, enrollments, classroom units and scores of one school."""
    grade_sizes = apportion(students, [rng.uniform(0.9, 1.1) for _ in GRADES])
    learners_by_grade = {
        grade: [
            learner_draw(
                district=run.district,
                sis_ids=run.sis_ids,
                groups=run.groups,
                grade=grade,
                rng=rng,
            )
            for _ in range(size)
        ]
        for grade, size in zip(GRADES, grade_sizes, strict=True)
    }
    all_learners = [learner for learners in learners_by_grade.values() for learner in learners]
    new_students = [learner.student for learner in all_learners]
    Student.objects.bulk_create(new_students, batch_size=BATCH_SIZE)
    require_ids(new_students)
    run.student_count += len(all_learners)
    for learner in all_learners:
        for group_id in learner.group_ids:
            run.sinks.group_members.add((learner.student.pk, group_id))

    homerooms = homerooms_create(staff=run.staff, learners_by_grade=learners_by_grade, rng=rng)
    classrooms = classrooms_create(
        staff=run.staff,
        school=school,
        term=run.fall_term,
        homerooms=homerooms,
        classroom_teachers=run.sinks.classroom_teachers,
        rng=rng,
    )
    run.classroom_count += len(classrooms)
    for homeroom in homerooms:
        for classroom in homeroom.classrooms:
            for learner in homeroom.roster:
                run.sinks.enrollments.add(
                    (learner.student.pk, classroom.pk, learner.enrolled_on, None)
                )

    teacher_ids = {classroom.pk: ids for classroom, ids in classrooms}
    planned: list[tuple[Homeroom, Classroom, DemoUnit, ClassroomUnit]] = [
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
    require_ids(classroom_units)

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
        classroom_unit_scores(
            scores=run.sinks.scores,
            half_points=run.half_points,
            classroom_unit=classroom_unit,
            demo_unit=demo_unit,
            subject=classroom.subject,
            roster=homeroom.roster,
            teacher_ids=teacher_ids[classroom.pk],
            ability_effect=ability_effect,
            growth_effect=growth_effect,
            rng=rng,
        )


def _statistics_refresh() -> None:
    """Refresh the planner's statistics, so reports are fast right after a big seed."""
    tables = [
        model._meta.db_table
        for model in (Student, Enrollment, Classroom, ClassroomUnit, Score, User)
    ]
    quoted = ", ".join(connection.ops.quote_name(table) for table in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {quoted}")

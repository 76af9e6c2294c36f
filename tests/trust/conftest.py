"""The trust world: two districts, each with every role, built once per test module.

Each district ("a" and "b") holds the same shape, so a rule that holds in one and not in the
other is a tenancy bug:

- schools ``s1`` and ``s2``; classrooms ``c1`` and ``c1b`` in s1, ``c2`` in s2;
- students ``st1`` (in c1), ``st1b`` (in c1b), ``stx`` (in c1 and c1b), ``st2`` (in c2) and
  ``stu`` (enrolled nowhere);
- unit ``u`` taught in every classroom (classroom units ``cu1``, ``cu1b``, ``cu2``) with a pre
  score for every enrolled student (and a post score in cu1), and unit ``u2`` taught nowhere
  (both shared by the district), and ``tu``, a unit the teacher wrote and shares with nobody;
- school years ``year`` (with the term) and ``year2`` (the next one, for roll-over);
- people: ``admin`` (district admin), ``coach`` (coaches s1), ``coach2`` (coaches s2, "a coach of
  another school"), ``teacher`` (teaches c1), ``peer`` (teaches c1b: "a teacher of another
  classroom in the same school"), ``norole`` (a member with no role) and ``inactive`` (a
  deactivated account that still holds every role of the district), plus ``anonymous``;
- stored growth (a real rebuild), an audit event, and export jobs with their files, requested
  by the teacher, the coach and the admin.

Every row is a ``Thing`` with a global key (``"a:c1"``, ``"b:score:cu2:st2:post"``), its
district, and the *kind* and *area* the expectation tables of the trust tests speak of (e.g. a
score is kind "classroom", area "c1"). The fixture says where each row lives; it never asks
classrooms/access.py who may see it.

Names carry markers (``FamASt1Q``, ``Class A c1 Q``) that appear nowhere else, so a response
can be searched for rows its reader may not see; a trailing ``Q`` keeps ``st1`` from matching
inside ``st1b``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import models, transaction
from django.test import override_settings
from django.utils import timezone
from rest_framework.authtoken.models import Token

from assessments.models import Score, ScoreChange
from classrooms.models import AuditEvent, RosterImport, SignInProvider
from reports import services as growth_services
from reports.models import (
    ClassroomUnitGrowthSummary,
    DistrictUnitGrowthSummary,
    ExportJob,
    ExportStatus,
    GrowthBuild,
    SchoolUnitGrowthSummary,
    StudentGrowth,
)
from tests import factories
from units.models import Assessment, AssessmentSkill, ClassroomUnit, Skill, Unit
from units.services import unit_plan_save

DISTRICTS = ("a", "b")
ROLES = ("admin", "coach", "coach2", "teacher", "peer", "norole", "inactive")
SCHOOLS = ("s1", "s2")
# classroom → its school and the role that teaches it (c2 is taught by nobody in the world).
CLASSROOMS = {"c1": ("s1", "teacher"), "c1b": ("s1", "peer"), "c2": ("s2", None)}
# student → the classrooms they are enrolled in.
STUDENTS = {"st1": ("c1",), "st1b": ("c1b",), "stx": ("c1", "c1b"), "st2": ("c2",), "stu": ()}
CLASSROOM_UNITS = {"cu1": "c1", "cu1b": "c1b", "cu2": "c2"}
PASSWORD = "pw-for-tests"  # factories.UserFactory's password


@dataclass(frozen=True)
class Thing:
    """One row of the world: where it lives, in the words of the expectation tables."""

    key: str
    obj: Any
    district: str
    kind: str
    area: str

    @property
    def pk(self) -> int:
        return int(self.obj.pk)


@dataclass
class TrustWorld:
    things: dict[str, Thing] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    export_dir: Path = Path()

    def add(self, key: str, obj: Any, district: str, kind: str, area: str) -> Any:
        assert key not in self.things, key
        self.things[key] = Thing(key=key, obj=obj, district=district, kind=kind, area=area)
        return obj

    def obj(self, key: str) -> Any:
        return self.things[key].obj

    def thing(self, key: str) -> Thing:
        return self.things[key]

    def of_model(self, model: type[models.Model]) -> list[Thing]:
        """Every thing of ``model`` in the world, in key order."""
        return [thing for thing in self.things.values() if type(thing.obj) is model]

    def thing_of(self, obj: Any) -> Thing:
        for thing in self.things.values():
            if type(thing.obj) is type(obj) and thing.obj.pk == obj.pk:
                return thing
        raise KeyError(f"{type(obj).__name__} #{obj.pk} is not in the world")


def user_keys() -> list[str]:
    """Every person of the world, district by district, then anonymous."""
    return [f"{d}:{role}" for d in DISTRICTS for role in ROLES] + ["anonymous"]


def role_of(user_key: str) -> tuple[str | None, str]:
    """(district, role) of a user key; (None, "anonymous") for anonymous."""
    if user_key == "anonymous":
        return None, "anonymous"
    district, role = user_key.split(":")
    return district, role


def _marker(district: str, local: str) -> str:
    return f"{district.upper()}{local[0].upper()}{local[1:]}Q"


def student_markers(district: str, local: str) -> tuple[str, ...]:
    """Strings that only a page or file showing this student contains."""
    return (f"Fam{_marker(district, local)}", f"SIS-{_marker(district, local)}")


def classroom_marker(district: str, local: str) -> str:
    return f"Class {district.upper()} {local} Q"


def school_marker(district: str, local: str) -> str:
    return f"School {district.upper()} {local} Q"


def district_marker(district: str) -> str:
    return f"District {district.upper()} Q"


def audit_marker(district: str) -> str:
    return f"Audit {district.upper()} Q"


def build_trust_world(export_dir: Path) -> TrustWorld:
    world = TrustWorld(export_dir=export_dir)
    for district_key in DISTRICTS:
        _build_district(world, district_key)
    for district_key in DISTRICTS:
        growth_services.growth_rebuild(district_id=world.obj(f"{district_key}:district").pk)
    _register_growth_rows(world)
    world.users["anonymous"] = AnonymousUser()
    for user_key, user in world.users.items():
        if user_key != "anonymous":
            world.tokens[user_key] = Token.objects.create(user=user).key
    return world


def _build_district(world: TrustWorld, d: str) -> None:
    district = factories.DistrictFactory(name=district_marker(d), minimum_n=1)
    world.add(f"{d}:district", district, d, "reference", "*")
    year = factories.AcademicYearFactory(district=district, name=f"2026-27 {d.upper()}")
    world.add(f"{d}:year", year, d, "reference", "*")
    next_year = factories.AcademicYearFactory(
        district=district,
        name=f"2027-28 {d.upper()}",
        start_date=datetime.date(2027, 8, 16),
        end_date=datetime.date(2028, 6, 9),
    )
    world.add(f"{d}:year2", next_year, d, "reference", "*")
    term = factories.TermFactory(academic_year=year, name="Fall")
    world.add(f"{d}:term", term, d, "reference", "*")
    group = factories.StudentGroupFactory(district=district, name=f"Group {d.upper()} Q")
    world.add(f"{d}:group", group, d, "reference", "*")

    users = {}
    for role in ROLES:
        user = factories.UserFactory(
            username=f"{d}_{role}",
            first_name=role.capitalize(),
            last_name=f"Staff {d.upper()}",
            district=district,
            is_district_admin=role in ("admin", "inactive"),
            is_active=role != "inactive",
        )
        users[role] = user
        world.users[f"{d}:{role}"] = user
        world.add(f"{d}:user:{role}", user, d, "account", role)

    schools = {}
    for local in SCHOOLS:
        school = factories.SchoolFactory(
            district=district, name=school_marker(d, local), code=f"{d.upper()}{local}"
        )
        schools[local] = school
        world.add(f"{d}:{local}", school, d, "school", local)
    schools["s1"].coaches.add(users["coach"], users["inactive"])
    schools["s2"].coaches.add(users["coach2"])

    classrooms = {}
    for local, (school_local, teacher_role) in CLASSROOMS.items():
        classroom = factories.ClassroomFactory(
            school=schools[school_local], term=term, name=classroom_marker(d, local)
        )
        if teacher_role:
            classroom.teachers.add(users[teacher_role])
        classrooms[local] = classroom
        world.add(f"{d}:{local}", classroom, d, "classroom", local)
    classrooms["c1"].teachers.add(users["inactive"])

    students = {}
    for local, classroom_locals in STUDENTS.items():
        family, sis = student_markers(d, local)
        student = factories.StudentFactory(
            district=district, family_name=family, given_name="Kim", sis_id=sis
        )
        students[local] = student
        world.add(f"{d}:{local}", student, d, "student", local)
        for classroom_local in classroom_locals:
            enrollment = factories.EnrollmentFactory(
                classroom=classrooms[classroom_local],
                student=student,
                start_date=datetime.date(2026, 8, 17),
            )
            world.add(
                f"{d}:enrollment:{classroom_local}:{local}",
                enrollment,
                d,
                "classroom",
                classroom_local,
            )
    students["st1"].groups.add(group)

    for local in ("u", "u2", "tu"):
        if local == "tu":
            # A unit the teacher wrote for themselves, shared with nobody yet.
            unit = unit_plan_save(
                actor=users["teacher"],
                unit=Unit(
                    district=district,
                    title=f"Unit {d.upper()} {local} Q",
                    subject="Math",
                    grade_level="5",
                ),
                plan=factories.valid_plan(),
            )
            kind, area = "own_unit", "teacher"
        else:
            unit = factories.make_unit(district, title=f"Unit {d.upper()} {local} Q")
            kind, area = "reference", "*"
        world.add(f"{d}:{local}", unit, d, kind, area)
        for skill in Skill.objects.filter(unit=unit):
            world.add(f"{d}:{local}:skill:{skill.code}", skill, d, kind, area)
        for assessment in Assessment.objects.filter(unit=unit):
            assessment_key = f"{d}:{local}:{_assessment_local(assessment)}"
            world.add(assessment_key, assessment, d, kind, area)
            measures = AssessmentSkill.objects.filter(assessment=assessment)
            for measure in measures.select_related("skill"):
                key = f"{assessment_key}:{measure.skill.code}"
                world.add(key, measure, d, kind, area)

    unit = world.obj(f"{d}:u")
    now = timezone.now()
    for cu_local, classroom_local in CLASSROOM_UNITS.items():
        classroom_unit = factories.ClassroomUnitFactory(
            classroom=classrooms[classroom_local], unit=unit, start_date=datetime.date(2026, 9, 7)
        )
        world.add(f"{d}:{cu_local}", classroom_unit, d, "classroom", classroom_local)
        teacher_role = CLASSROOMS[classroom_local][1] or "admin"
        for student_local, classroom_locals in STUDENTS.items():
            if classroom_local not in classroom_locals:
                continue
            # Pre scores everywhere; post scores in cu1 only, so that growth has complete and
            # incomplete students without doubling the rows every probe must try.
            kinds = (("pre", "1"), ("post", "3")) if cu_local == "cu1" else (("pre", "1"),)
            for kind, points in kinds:
                measure = world.obj(f"{d}:u:{kind}:A")
                score = Score.objects.create(
                    classroom_unit=classroom_unit,
                    student=students[student_local],
                    assessment_skill=measure,
                    points=Decimal(points),
                    entered_by=users[teacher_role],
                    entered_at=now,
                )
                key = f"{d}:score:{cu_local}:{student_local}:{kind}"
                world.add(key, score, d, "classroom", classroom_local)
                change = ScoreChange.objects.create(
                    classroom_unit=classroom_unit,
                    student=students[student_local],
                    assessment_skill=measure,
                    changed_by=users[teacher_role],
                    changed_at=now,
                    new_status=score.status,
                    new_points=score.points,
                    version=1,
                )
                world.add(f"{key}:change", change, d, "classroom", classroom_local)

    event = AuditEvent.objects.create(
        district=district,
        actor=users["admin"],
        actor_name=f"Admin {d.upper()}",
        kind="roster_import",
        outcome="succeeded",
        message=audit_marker(d),
    )
    world.add(f"{d}:audit", event, d, "audit", "*")
    roster_import = RosterImport.objects.create(district=district, audit_event=event)
    world.add(f"{d}:roster_import", roster_import, d, "audit", "*")
    sign_in = SignInProvider.objects.create(
        district=district,
        kind="openid_connect",
        label=f"ID {d.upper()}",
        client_id=f"client-{d}",
        secret=f"secret-{d}",
        server_url=f"https://id.district-{d}.example",
    )
    world.add(f"{d}:signin", sign_in, d, "signin", "*")

    for role, kind in (("teacher", "scores"), ("coach", "aggregate_growth"), ("admin", "scores")):
        job = ExportJob.objects.create(
            district=district,
            requested_by=users[role],
            kind=kind,
            status=ExportStatus.SUCCEEDED,
            file_name=f"trust-{d}-{role}.csv",
            file_size=10,
            rows_written=1,
            finished_at=now,
            expires_at=now + datetime.timedelta(days=30),
        )
        (world.export_dir / job.file_name).write_text(f"export file of {d} {role}\n")
        world.add(f"{d}:job:{role}", job, d, "export_job", role)


def _assessment_local(assessment: Assessment) -> str:
    """``pre``, ``post`` or ``f<week>`` for a formative checkpoint."""
    return f"f{assessment.week}" if assessment.kind == "formative" else assessment.kind


def _register_growth_rows(world: TrustWorld) -> None:
    """Name the rows the growth rebuild wrote, by where they live."""
    cu_keys = {thing.pk: thing for thing in world.of_model(ClassroomUnit)}
    for row in GrowthBuild.objects.all_schools():
        cu = cu_keys[row.classroom_unit_id]
        world.add(f"{cu.key}:build", row, cu.district, "classroom", cu.area)
    for row in StudentGrowth.objects.all_schools():
        cu = cu_keys[row.classroom_unit_id]
        student = world.thing_of(row.student)
        world.add(f"{cu.key}:growth:{student.area}", row, cu.district, "classroom", cu.area)
    for row in ClassroomUnitGrowthSummary.objects.all_schools():
        cu = cu_keys[row.classroom_unit_id]
        suffix = row.part
        world.add(f"{cu.key}:summary:{suffix}", row, cu.district, "classroom", cu.area)
    for row in SchoolUnitGrowthSummary.objects.all_schools():
        school = world.thing_of(row.school)
        unit = world.thing_of(row.unit)
        suffix = row.part
        key = f"{school.key}:{unit.key.split(':')[1]}:{suffix}:summary"
        world.add(key, row, school.district, "school_summary", school.area)
    for row in DistrictUnitGrowthSummary.objects.all_schools():
        district = world.thing_of(row.district)
        unit = world.thing_of(row.unit)
        suffix = row.part
        key = f"{district.key}:{unit.key.split(':')[1]}:{suffix}:summary"
        world.add(key, row, district.district, "district_summary", "*")


@pytest.fixture(scope="module")
def trust_world(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TrustWorld]:
    """The world, built once for a test module inside a transaction rolled back after it.

    Tests take it through ``trust`` (which adds ``db``), so each test runs in a savepoint of
    its own and its writes are undone; tests must not change the Python objects of the world.
    """
    export_dir = tmp_path_factory.mktemp("trust-exports")
    with (
        override_settings(THINSLICE_EXPORT_DIR=str(export_dir)),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        world = build_trust_world(export_dir)
        yield world
        transaction.set_rollback(True)


@pytest.fixture
def trust(trust_world: TrustWorld, db: Any) -> TrustWorld:
    return trust_world

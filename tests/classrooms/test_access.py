"""Tenancy through the ORM: ``Model.objects.visible_to(user)`` for every role on every model.

The expectations here are written out by hand from the rules in classrooms/access.py and
computed without the ORM scoping: ``REACH`` says which district and which schools' classrooms
each person reaches, and ``expected_ids`` maps every row of the world to its district and school
and applies the rule of its model. The API and admin tests reuse these helpers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import models, transaction

from assessments.models import Score, ScoreChange
from classrooms import access
from classrooms.models import (
    AcademicYear,
    AuditEvent,
    Classroom,
    District,
    Enrollment,
    RosterImport,
    RosterImportChange,
    School,
    SignInFailure,
    SignInProvider,
    Student,
    StudentGroup,
    Term,
    User,
)
from classrooms.querysets import ScopedQuerySet
from reports.models import (
    BreakdownPart,
    ClassroomUnitGrowthCell,
    ClassroomUnitGrowthSummary,
    DistrictUnitGrowthSummary,
    ExportJob,
    GrowthBuild,
    SchoolUnitGrowthSummary,
    StudentGrowth,
)
from tests import factories
from tests.conftest import World, build_world
from units.models import Assessment, AssessmentSkill, ClassroomUnit, Skill, Unit, UnitLineage

# ---------------------------------------------------------------------------------------------
# Who reaches what: the expectation table, written out by hand.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """What one person reaches in the world.

    district: key of the district whose reference rows they see (None: no district at all).
    schools: keys of the schools whose School row they see.
    classrooms: keys of the schools whose classroom (with its enrollment, enrolled student,
        classroom unit and score) they see.
    district_admin: sees the whole district's students (also unenrolled) and staff accounts.
    everything: a platform operator (superuser).
    """

    district: str | None = None
    schools: frozenset[str] = field(default_factory=frozenset)
    classrooms: frozenset[str] = field(default_factory=frozenset)
    district_admin: bool = False
    everything: bool = False


def _reach(district: str | None, schools: str = "", classrooms: str = "", **flags: bool) -> Reach:
    return Reach(
        district=district,
        schools=frozenset(schools.split()),
        classrooms=frozenset(classrooms.split()),
        **flags,
    )


REACH: dict[str, Reach] = {
    # district admins: their whole district
    "admin_a": _reach("a", schools="a1 a2", classrooms="a1 a2", district_admin=True),
    "admin_b": _reach("b", schools="b1", classrooms="b1", district_admin=True),
    # teachers: their own classrooms (and the school row they teach in)
    "teacher_a1": _reach("a", schools="a1", classrooms="a1"),
    "teacher_a2": _reach("a", schools="a2", classrooms="a2"),
    "teacher_b1": _reach("b", schools="b1", classrooms="b1"),
    # coaches: every classroom of the schools they coach
    "coach_a1": _reach("a", schools="a1", classrooms="a1"),
    "coach_a2": _reach("a", schools="a2", classrooms="a2"),
    "coach_b1": _reach("b", schools="b1", classrooms="b1"),
    # a member without a role: district reference rows (and their own account) only
    "no_role_a": _reach("a"),
    # nobody: no district, no rows, not even their own account
    "anonymous": _reach(None),
    "inactive": _reach(None),
    # platform operator
    "superuser": _reach(None, everything=True),
}

USER_KEYS = list(REACH)


def add_extra_people(world: World) -> None:
    """Add to ``world.users`` the people the fixture lacks: anonymous, inactive, superuser.

    The inactive account holds every role in district A (admin, teacher and coach of a1), so it
    shows that deactivation alone removes access.
    """
    district_a = world.districts["a"]
    inactive = factories.UserFactory(
        username="inactive_a", district=district_a, is_district_admin=True, is_active=False
    )
    world.classrooms["a1"].teachers.add(inactive)
    world.schools["a1"].coaches.add(inactive)
    world.users["inactive"] = inactive
    world.users["superuser"] = factories.UserFactory(
        username="operator", district=None, is_superuser=True, is_staff=True
    )
    world.users["anonymous"] = AnonymousUser()
    _add_history_and_growth_rows(world)
    _add_audit_rows(world)
    _add_export_jobs(world)


BANDS = ("beginning", "developing", "proficient")


def _add_history_and_growth_rows(world: World) -> None:
    """A score change and stored growth rows per school, so those models have rows to scope."""
    for school_key, score in world.scores.items():
        ScoreChange.objects.create(
            classroom_unit=score.classroom_unit,
            student=score.student,
            assessment_skill=score.assessment_skill,
            changed_by=world.users[f"teacher_{school_key}"],
            changed_at=score.entered_at,
            new_status=score.status,
            new_points=score.points,
            version=1,
        )
        GrowthBuild.objects.create(classroom_unit=score.classroom_unit)
        StudentGrowth.objects.create(
            classroom_unit=score.classroom_unit,
            student=score.student,
            is_complete=False,
            built_at=score.entered_at,
        )
        cell_counts = {
            name: 0
            for name in [
                "incomplete",
                "n",
                "g_count",
                "at_ceiling",
                "little_room",
                "target_met",
                *(f"{pre}_{post}" for pre in BANDS for post in BANDS),
            ]
        }
        ClassroomUnitGrowthCell.objects.create(
            classroom_unit=score.classroom_unit, part=BreakdownPart.ALL, **cell_counts
        )
        summary = {"part": BreakdownPart.ALL, "built_at": score.entered_at}
        ClassroomUnitGrowthSummary.objects.create(classroom_unit=score.classroom_unit, **summary)
        SchoolUnitGrowthSummary.objects.create(
            school=world.schools[school_key], unit=score.classroom_unit.unit, **summary
        )
        if school_key in ("a1", "b1"):  # one district × unit row per district
            DistrictUnitGrowthSummary.objects.create(
                district=world.schools[school_key].district,
                unit=score.classroom_unit.unit,
                **summary,
            )


def _add_audit_rows(world: World) -> None:
    """An audit event per district, recorded by its admin, so the audit log has rows to scope."""
    for district_key, district in world.districts.items():
        event = AuditEvent.objects.create(
            district=district,
            actor=world.users[f"admin_{district_key}"],
            actor_name=f"admin_{district_key}",
            kind="roster_import",
            outcome="succeeded",
        )
        roster_import = RosterImport.objects.create(district=district, audit_event=event)
        RosterImportChange.objects.create(
            roster_import=roster_import, position=1, model="school", object_id=1, action="created"
        )
        SignInProvider.objects.create(
            district=district,
            kind="openid_connect",
            label=f"ID {district_key.upper()}",
            client_id=f"client-{district_key}",
            secret=f"secret-{district_key}",
            server_url=f"https://id.district-{district_key}.example",
        )


def _add_export_jobs(world: World) -> None:
    """An export job per district, requested by the teacher of its first school."""
    for district_key, teacher_key in (("a", "teacher_a1"), ("b", "teacher_b1")):
        ExportJob.objects.create(
            district=world.districts[district_key],
            requested_by=world.users[teacher_key],
            kind="scores",
        )


# ---------------------------------------------------------------------------------------------
# Which district / school each row belongs to, and the rule of its model.
# ---------------------------------------------------------------------------------------------

# The district of a row, for district-wide reference rows (seen by every member).
DISTRICT_OF: dict[type[models.Model], Callable[[Any], int]] = {
    District: lambda row: row.pk,
    AcademicYear: lambda row: row.district_id,
    Term: lambda row: row.academic_year.district_id,
    StudentGroup: lambda row: row.district_id,
}

# The unit lineage of a row, for units and their plans (a person's unit library).
LINEAGE_OF: dict[type[models.Model], Callable[[Any], Any]] = {
    UnitLineage: lambda row: row,
    Unit: lambda row: row.lineage,
    Skill: lambda row: row.unit.lineage,
    Assessment: lambda row: row.unit.lineage,
    AssessmentSkill: lambda row: row.assessment.unit.lineage,
}

# The classroom of a row, for rows seen through their classroom.
CLASSROOM_OF: dict[type[models.Model], Callable[[Any], int]] = {
    Classroom: lambda row: row.pk,
    Enrollment: lambda row: row.classroom_id,
    ClassroomUnit: lambda row: row.classroom_id,
    Score: lambda row: row.classroom_unit.classroom_id,
    ScoreChange: lambda row: row.classroom_unit.classroom_id,
    GrowthBuild: lambda row: row.classroom_unit.classroom_id,
    StudentGrowth: lambda row: row.classroom_unit.classroom_id,
    ClassroomUnitGrowthSummary: lambda row: row.classroom_unit.classroom_id,
    ClassroomUnitGrowthCell: lambda row: row.classroom_unit.classroom_id,
}

# The school of a row, for rows seen by whoever sees their school (school × unit roll-ups).
SCHOOL_OF: dict[type[models.Model], Callable[[Any], int]] = {
    SchoolUnitGrowthSummary: lambda row: row.school_id,
}

# The district of a row only its district admins see (district × unit roll-ups).
DISTRICT_ADMIN_OF: dict[type[models.Model], Callable[[Any], int]] = {
    DistrictUnitGrowthSummary: lambda row: row.district_id,
    RosterImport: lambda row: row.district_id,
    RosterImportChange: lambda row: row.roster_import.district_id,
    SignInProvider: lambda row: row.district_id,
}

SCOPED_MODELS: list[type[models.Model]] = [
    *DISTRICT_OF,
    *LINEAGE_OF,
    School,
    *CLASSROOM_OF,
    *SCHOOL_OF,
    *DISTRICT_ADMIN_OF,
    Student,
    User,
    AuditEvent,
    ExportJob,
    SignInFailure,
]

# The platform's own rows, in no district.
PLATFORM_ONLY = {SignInFailure}


def _keys_by_pk(rows: dict[str, Any]) -> dict[int, str]:
    return {row.pk: key for key, row in rows.items()}


def is_visible(world: World, reach: Reach, user: Any, row: Any) -> bool:
    """Whether ``row`` is visible to ``user`` with ``reach``, by the rules of access.py."""
    if reach.everything:
        return True
    district_key = _keys_by_pk(world.districts)
    model = type(row)
    if model in DISTRICT_OF:
        return district_key[DISTRICT_OF[model](row)] == reach.district
    if model in LINEAGE_OF:
        # A unit: the district admin; anyone of the district when the district shares it; its
        # author; colleagues of the author's schools when shared there; whoever sees a class
        # that teaches it.
        lineage = LINEAGE_OF[model](row)
        if district_key[lineage.district_id] != reach.district:
            return False
        if reach.district_admin or lineage.is_shared or lineage.author_id == user.pk:
            return True
        school_key = _keys_by_pk(world.schools)
        author_schools = {
            school_key[classroom.school_id]
            for classroom in Classroom._base_manager.filter(teachers=lineage.author_id)
        }
        if lineage.is_shared_in_school and author_schools & reach.schools:
            return True
        classroom_key = _keys_by_pk(world.classrooms)
        taught_in = {
            classroom_key[classroom_unit.classroom_id]
            for classroom_unit in ClassroomUnit._base_manager.filter(unit__lineage=lineage)
        }
        return bool(taught_in & reach.classrooms)
    if model is School:
        return _keys_by_pk(world.schools)[row.pk] in reach.schools
    if model in CLASSROOM_OF:
        return _keys_by_pk(world.classrooms)[CLASSROOM_OF[model](row)] in reach.classrooms
    if model in SCHOOL_OF:
        return _keys_by_pk(world.schools)[SCHOOL_OF[model](row)] in reach.schools
    if model in DISTRICT_ADMIN_OF:
        return (
            reach.district_admin and district_key[DISTRICT_ADMIN_OF[model](row)] == reach.district
        )
    if model is Student:
        if reach.district_admin and district_key[row.district_id] == reach.district:
            return True
        classroom_key = _keys_by_pk(world.classrooms)
        enrolled_in = {
            classroom_key[enrollment.classroom_id]
            for enrollment in Enrollment._base_manager.filter(student=row)
        }
        return bool(enrolled_in & reach.classrooms)
    if model is SignInFailure:
        return False  # the platform's own rows: its operators only (reach.everything above)
    if model is AuditEvent:
        # The audit log: only the district's admins read it.
        return reach.district_admin and district_key[row.district_id] == reach.district
    if model is ExportJob:
        # Export jobs: the district's admins, and the requester while a member of the district.
        if district_key[row.district_id] != reach.district:
            return False
        return reach.district_admin or row.requested_by_id == user.pk
    if model is User:
        if reach.district is None:
            return False
        if row.pk == user.pk:
            return True
        return reach.district_admin and district_key.get(row.district_id) == reach.district
    raise AssertionError(f"No visibility rule written for {model.__name__}")


def expected_ids(world: World, user_key: str, model: type[models.Model]) -> set[int]:
    """Ids of ``model`` rows that ``world.users[user_key]`` should see, computed without scoping."""
    reach = REACH[user_key]
    user = world.users[user_key]
    return {row.pk for row in model._base_manager.all() if is_visible(world, reach, user, row)}


def visible_ids(model: type[models.Model], user: Any) -> set[int]:
    return set(model._default_manager.visible_to(user).values_list("pk", flat=True))  # type: ignore[attr-defined]


# Product bugs a test has found and that are not fixed yet, as strict xfails: none open.
KNOWN_BUGS: dict[tuple[str, type[models.Model]], str] = {}


def user_model_params() -> list[Any]:
    """Every user × every scoped model, named ``<user>-<Model>``; known bugs are strict xfails."""
    params = []
    for user_key in USER_KEYS:
        for model in SCOPED_MODELS:
            marks = []
            if (user_key, model) in KNOWN_BUGS:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[(user_key, model)]))
            params.append(
                pytest.param(user_key, model, id=f"{user_key}-{model.__name__}", marks=marks)
            )
    return params


def world_for_module(django_db_blocker: Any) -> Iterator[World]:
    """The conftest world plus ``add_extra_people``, built once for a whole test module.

    Building the world for each of the hundreds of user × model cases would make these files
    slow, so a module builds it once inside a transaction that is rolled back after the module.
    Each test still runs in a savepoint of its own (through ``db``), so rows a test writes are
    undone; tests must not change the Python objects in the world (fetch a fresh copy first).
    """
    with django_db_blocker.unblock(), transaction.atomic():
        world = build_world()
        add_extra_people(world)
        yield world
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def module_world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    yield from world_for_module(django_db_blocker)


@pytest.fixture
def people(module_world: World, db: Any) -> World:
    return module_world


# ---------------------------------------------------------------------------------------------
# visible_to: every role on every model.
# ---------------------------------------------------------------------------------------------


def test_every_scoped_model_has_a_visibility_rule_here() -> None:
    scoped = {
        model
        for app_label in ("classrooms", "units", "assessments", "reports")
        for model in apps.get_app_config(app_label).get_models()
        if isinstance(model._default_manager.all(), ScopedQuerySet)
    }

    missing = sorted(model.__name__ for model in scoped - set(SCOPED_MODELS))
    assert not missing, f"add these models to SCOPED_MODELS with a rule in is_visible: {missing}"


def test_world_has_rows_of_every_model_in_both_districts(people: World) -> None:
    for model in set(SCOPED_MODELS) - PLATFORM_ONLY:
        in_a = expected_ids(people, "admin_a", model)
        in_b = expected_ids(people, "admin_b", model)
        assert in_a, f"no {model.__name__} row in district A"
        assert in_b, f"no {model.__name__} row in district B"
        assert not in_a & in_b, f"a {model.__name__} row is in both districts"


@pytest.mark.parametrize(("user_key", "model"), user_model_params())
def test_visible_to_returns_exactly_the_rows_the_role_reaches(
    people: World, user_key: str, model: type[models.Model]
) -> None:
    user = people.users[user_key]

    assert visible_ids(model, user) == expected_ids(people, user_key, model)


@pytest.mark.parametrize("user_key", [key for key in USER_KEYS if REACH[key].district])
def test_nobody_sees_another_districts_rows(people: World, user_key: str) -> None:
    other_admin = "admin_b" if REACH[user_key].district == "a" else "admin_a"
    user = people.users[user_key]

    for model in SCOPED_MODELS:
        other_district_rows = expected_ids(people, other_admin, model)
        assert not visible_ids(model, user) & other_district_rows, model.__name__


def test_coach_sees_only_coached_schools(people: World) -> None:
    coach = people.users["coach_a1"]

    assert visible_ids(School, coach) == {people.schools["a1"].pk}
    assert visible_ids(Classroom, coach) == {people.classrooms["a1"].pk}


def test_teacher_sees_students_enrolled_with_them_but_not_unenrolled_ones(people: World) -> None:
    teacher = people.users["teacher_a1"]

    assert visible_ids(Student, teacher) == {people.students["a1"].pk}


def test_district_admin_sees_unenrolled_students_of_their_district(people: World) -> None:
    seen = visible_ids(Student, people.users["admin_a"])

    assert people.students["unenrolled_a"].pk in seen
    assert people.students["unenrolled_b"].pk not in seen


def test_district_admin_never_sees_superuser_accounts(people: World) -> None:
    assert people.users["superuser"].pk not in visible_ids(User, people.users["admin_a"])


def test_person_with_two_roles_sees_the_union(people: World) -> None:
    both = factories.UserFactory(username="teacher_a1_coach_a2", district=people.districts["a"])
    people.classrooms["a1"].teachers.add(both)
    people.schools["a2"].coaches.add(both)
    reach_of_both = _reach("a", schools="a1 a2", classrooms="a1 a2")

    for model in SCOPED_MODELS:
        expected = {
            row.pk
            for row in model._base_manager.all()
            if is_visible(people, reach_of_both, both, row)
        }
        assert visible_ids(model, both) == expected, model.__name__
    assert visible_ids(Classroom, both) == {
        people.classrooms["a1"].pk,
        people.classrooms["a2"].pk,
    }


def test_assignments_in_another_district_give_no_access_there(people: World) -> None:
    teacher = people.users["teacher_a1"]
    people.classrooms["b1"].teachers.add(teacher)
    people.schools["b1"].coaches.add(teacher)

    for model in SCOPED_MODELS:
        assert visible_ids(model, teacher) == expected_ids(people, "teacher_a1", model), (
            model.__name__
        )


# ---------------------------------------------------------------------------------------------
# Role changes take effect at once.
# ---------------------------------------------------------------------------------------------


def test_teacher_removed_from_classroom_no_longer_sees_it(people: World) -> None:
    teacher = people.users["teacher_a1"]
    classroom = people.classrooms["a1"]
    assert visible_ids(Classroom, teacher) == {classroom.pk}

    classroom.teachers.remove(teacher)

    assert visible_ids(Classroom, teacher) == set()
    assert visible_ids(Score, teacher) == set()
    assert visible_ids(Student, teacher) == set()
    assert not access.can(teacher, "enter_scores", classroom)


def test_coach_removed_from_school_no_longer_sees_it(people: World) -> None:
    coach = people.users["coach_a1"]

    people.schools["a1"].coaches.remove(coach)

    assert visible_ids(School, coach) == set()
    assert visible_ids(Classroom, coach) == set()
    assert visible_ids(Enrollment, coach) == set()


def test_demoted_district_admin_keeps_only_reference_rows(people: World) -> None:
    admin = User.objects.get(pk=people.users["admin_a"].pk)

    admin.is_district_admin = False
    admin.save(update_fields=["is_district_admin"])

    assert visible_ids(School, admin) == set()
    assert visible_ids(Student, admin) == set()
    assert visible_ids(User, admin) == {admin.pk}
    assert visible_ids(Unit, admin) == {people.units["a"].pk}
    assert not access.can(admin, "manage_district", people.districts["a"])


def test_deactivated_teacher_sees_nothing(people: World) -> None:
    teacher = User.objects.get(pk=people.users["teacher_a1"].pk)

    teacher.is_active = False
    teacher.save(update_fields=["is_active"])

    assert visible_ids(Classroom, teacher) == set()
    assert visible_ids(Unit, teacher) == set()
    assert visible_ids(District, teacher) == set()


# ---------------------------------------------------------------------------------------------
# access.can / access.require
# ---------------------------------------------------------------------------------------------

# Who may act on classroom a1 / its classroom unit (teach, enter scores) and on district A.
ALLOWED: dict[str, set[str]] = {
    "enter_scores": {"admin_a", "teacher_a1", "superuser"},
    "teach": {"admin_a", "teacher_a1", "superuser"},
    "manage_district": {"admin_a", "superuser"},
}

REASONS = {
    "enter_scores": "Only this classroom's teachers or a district admin can enter scores.",
    "teach": "Only this classroom's teachers or a district admin can change its units.",
    "manage_district": "Only a district admin of this district can change its setup.",
}


def _target(world: World, action: access.Action, target_kind: str) -> Any:
    if action == "manage_district":
        return {"district": world.districts["a"], "unit": world.units["a"]}[target_kind]
    return {"classroom": world.classrooms["a1"], "classroom_unit": world.classroom_units["a1"]}[
        target_kind
    ]


TARGET_KINDS = {
    "enter_scores": ("classroom", "classroom_unit"),
    "teach": ("classroom", "classroom_unit"),
    "manage_district": ("district", "unit"),
}


@pytest.mark.parametrize("user_key", USER_KEYS)
@pytest.mark.parametrize("action", list(ALLOWED))
def test_can_allows_only_the_roles_for_the_action(
    people: World, user_key: str, action: access.Action
) -> None:
    user = people.users[user_key]
    allowed = user_key in ALLOWED[action]

    for target_kind in TARGET_KINDS[action]:
        target = _target(people, action, target_kind)
        assert access.can(user, action, target) is allowed, target_kind


@pytest.mark.parametrize("user_key", USER_KEYS)
@pytest.mark.parametrize("action", list(ALLOWED))
def test_require_raises_permission_denied_with_reason_for_other_roles(
    people: World, user_key: str, action: access.Action
) -> None:
    user = people.users[user_key]

    for target_kind in TARGET_KINDS[action]:
        target = _target(people, action, target_kind)
        if user_key in ALLOWED[action]:
            access.require(user, action, target)
            continue
        with pytest.raises(PermissionDenied) as denied:
            access.require(user, action, target)
        assert str(denied.value) == REASONS[action]


def test_district_admin_cannot_act_in_another_district(people: World) -> None:
    admin_b = people.users["admin_b"]

    assert not access.can(admin_b, "manage_district", people.districts["a"])
    assert not access.can(admin_b, "teach", people.classrooms["a1"])
    assert access.can(admin_b, "teach", people.classrooms["b1"])


@pytest.mark.parametrize("user_key", USER_KEYS)
def test_can_view_matches_visible_to(people: World, user_key: str) -> None:
    user = people.users[user_key]
    for model in (Classroom, Score, Unit, Student):
        expected = expected_ids(people, user_key, model)
        for row in model._base_manager.all():
            assert access.can(user, "view", row) is (row.pk in expected), (model.__name__, row.pk)

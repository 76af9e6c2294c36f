"""Who may see and do what: the one place that maps a user to their scope.

- district admin: their whole district;
- coach: read-only over the schools they are assigned to;
- teacher: their own classrooms (students, units, scores);
- no role, inactive or anonymous: nothing.

One person may hold several roles; their scope is the union. A user belongs to one district
and never sees another district's rows, whatever ids they guess. Superusers are platform
operators and see everything.

Querysets call the ``*_q`` functions through ``ScopedQuerySet.visible_to``; services call
``require`` before they write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

if TYPE_CHECKING:
    from classrooms.models import Classroom

# A signed-in User or Django's AnonymousUser; both answer is_authenticated and is_active.
AnyUser: TypeAlias = Any

Action = Literal[
    "view", "teach", "enter_scores", "manage_district", "write_units", "edit_unit", "use_unit"
]

NOTHING = Q(pk__in=[])
EVERYTHING = Q()


def _is_platform_operator(user: AnyUser) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def _district_id(user: AnyUser) -> int | None:
    """The district of an active member, or None for anyone who belongs to no district."""
    if not user.is_authenticated:
        return None
    if not user.is_active:
        return None
    return user.district_id  # type: ignore[no-any-return]


def _is_district_admin(user: AnyUser) -> bool:
    if _district_id(user) is None:
        return False
    return bool(user.is_district_admin)


def visible_classroom_ids(user: AnyUser) -> QuerySet[Classroom, Any]:
    """Ids of the classrooms the user may see, as a subquery."""
    classroom_model = apps.get_model("classrooms", "Classroom")
    everything = classroom_model._base_manager.all()
    if _is_platform_operator(user):
        return everything.values("pk")
    district_id = _district_id(user)
    if district_id is None:
        return everything.none().values("pk")
    reach = Q(teachers=user)
    reach |= Q(school__coaches=user)
    if _is_district_admin(user):
        reach |= Q(school__district_id=district_id)
    return everything.filter(reach, school__district_id=district_id).values("pk")


def visible_school_ids(user: AnyUser) -> QuerySet[Any, Any]:
    """Ids of the schools the user may see: coached, taught in, or all of an admin's district."""
    school_model = apps.get_model("classrooms", "School")
    everything = school_model._base_manager.all()
    if _is_platform_operator(user):
        return everything.values("pk")
    district_id = _district_id(user)
    if district_id is None:
        return everything.none().values("pk")
    reach = Q(coaches=user)
    reach |= Q(classrooms__teachers=user)
    if _is_district_admin(user):
        reach |= Q(district_id=district_id)
    return everything.filter(reach, district_id=district_id).values("pk")


def classroom_q(user: AnyUser, path: str) -> Q:
    """Rows whose classroom (reached by ``path``) the user may see."""
    if _is_platform_operator(user):
        return EVERYTHING
    return Q(**{f"{path}__in": visible_classroom_ids(user)})


def school_q(user: AnyUser, path: str) -> Q:
    """Rows whose school (reached by ``path``) the user may see."""
    if _is_platform_operator(user):
        return EVERYTHING
    return Q(**{f"{path}__in": visible_school_ids(user)})


def district_q(user: AnyUser, path: str) -> Q:
    """District-wide reference rows (units, terms, groups): every member of the district."""
    if _is_platform_operator(user):
        return EVERYTHING
    district_id = _district_id(user)
    if district_id is None:
        return NOTHING
    return Q(**{path: district_id})


def district_admin_q(user: AnyUser, path: str) -> Q:
    """Rows only a district's admins may see (staff accounts, unenrolled students)."""
    if _is_platform_operator(user):
        return EVERYTHING
    if not _is_district_admin(user):
        return NOTHING
    return Q(**{path: _district_id(user)})


def student_q(user: AnyUser, student_path: str) -> Q:
    """Students: an admin sees the whole district; others only students enrolled with them."""
    if _is_platform_operator(user):
        return EVERYTHING
    enrolled_with_user = classroom_q(user, f"{student_path}enrollments__classroom")
    student_ids = (
        apps.get_model("classrooms", "Student")
        ._base_manager.filter(enrolled_with_user)
        .values("pk")
    )
    by_enrollment = Q(**{f"{student_path}pk__in": student_ids})
    return by_enrollment | district_admin_q(user, f"{student_path}district")


def platform_q(user: AnyUser) -> Q:
    """Rows of the platform itself, kept for its own protection (sign-in failures noticed for
    password spraying): only its operators read them, nobody in a district."""
    return EVERYTHING if _is_platform_operator(user) else NOTHING


def user_q(user: AnyUser) -> Q:
    """Accounts: an admin sees the district's staff, never a superuser (a platform operator, whom
    no district admin may change, reset or deactivate); everyone else only themselves."""
    if _is_platform_operator(user):
        return EVERYTHING
    if not user.is_authenticated:
        return NOTHING
    if not user.is_active:
        return NOTHING
    return Q(pk=user.pk) | (district_admin_q(user, "district") & Q(is_superuser=False))


def unit_library_q(user: AnyUser, path: str) -> Q:
    """Units (their lineages) a person may start, copy or read in the planner.

    A district admin: every unit of the district. Anyone else in the district: the district's
    shared units, the units they wrote, units a colleague of one of their schools shares with
    the school, and units taught in a classroom they see (a coach: the units of their schools).
    ``path`` is the lineage's path ("" for the lineage itself, "lineage" for a unit version).
    """
    lineage_path = path or "pk"
    if _is_platform_operator(user):
        return EVERYTHING
    district_id = _district_id(user)
    if district_id is None:
        return NOTHING
    lineages = apps.get_model("units", "UnitLineage")._base_manager.filter(district_id=district_id)
    if not _is_district_admin(user):
        reach = Q(is_shared=True)
        reach |= Q(author=user)
        reach |= Q(
            is_shared_in_school=True,
            author__taught_classrooms__school__in=visible_school_ids(user),
        )
        reach |= Q(versions__classroom_units__classroom__in=visible_classroom_ids(user))
        lineages = lineages.filter(reach)
    return Q(**{f"{lineage_path}__in": lineages.values("pk")})


def can(user: AnyUser, action: Action, target: Any) -> bool:
    """Whether ``user`` may do ``action`` on ``target`` (a Classroom, or any row with a district).

    One condition per line, so coverage shows each case.
    """
    if _is_platform_operator(user):
        return True
    district_id = _district_id(user)
    if district_id is None:
        return False
    if target_district_id(target) != district_id:
        return False
    if action == "manage_district":
        return _is_district_admin(user)
    if action == "write_units":
        return _is_district_admin(user) or _writes_units(user, target)
    if action == "edit_unit":
        return _is_district_admin(user) or _edits_own_unit(user, target)
    if action == "use_unit":
        return _sees(user, target)
    if action in ("teach", "enter_scores"):
        return _is_district_admin(user) or _teaches(user, target)
    if action == "view":
        return _sees(user, target)
    raise ValueError(f"Unknown action {action!r}")


def require(user: AnyUser, action: Action, target: Any) -> None:
    """Raise PermissionDenied with a plain reason unless ``can(user, action, target)``."""
    if can(user, action, target):
        return
    raise PermissionDenied(refusal_reason(action))


def refusal_reason(action: Action) -> str:
    """The plain reason a refusal of ``action`` gives."""
    reasons = {
        "manage_district": "Only a district admin of this district can change its setup.",
        "teach": "Only this classroom's teachers or a district admin can change its units.",
        "enter_scores": "Only this classroom's teachers or a district admin can enter scores.",
        "view": "You do not have access to this.",
        "write_units": "This district's units are written by its district admins and by "
        "teachers, when the district lets teachers write units.",
        "edit_unit": "Only the teacher who wrote this unit or a district admin can change it; "
        "use it again to adapt your own copy.",
        "use_unit": "This unit is not shared with you.",
    }
    return reasons[action]


_DISTRICT_PATHS = {
    "District": "pk",
    "Term": "academic_year.district_id",
    "Classroom": "school.district_id",
    "Enrollment": "classroom.school.district_id",
    "Skill": "unit.district_id",
    "Assessment": "unit.district_id",
    "AssessmentSkill": "assessment.unit.district_id",
    "ClassroomUnit": "classroom.school.district_id",
    "UnitLineage": "district_id",
    "Score": "classroom_unit.classroom.school.district_id",
}


def target_district_id(target: Any) -> int | None:
    """The district a row belongs to (None for a superuser's account, which has none)."""
    path = _DISTRICT_PATHS.get(type(target).__name__, "district_id")
    value = target
    for attribute in path.split("."):
        if not hasattr(value, attribute):
            raise TypeError(f"Cannot tell the district of a {type(target).__name__}")
        value = getattr(value, attribute)
    return None if value is None else int(value)


def _writes_units(user: AnyUser, district: Any) -> bool:
    """A teacher writes units when the district lets teachers write them."""
    if not district.teachers_write_units:
        return False
    return bool(user.taught_classrooms.exists())


def _edits_own_unit(user: AnyUser, lineage: Any) -> bool:
    """A teacher edits a unit they wrote, while the district lets teachers write units."""
    if lineage.author_id != user.pk:
        return False
    return _writes_units(user, lineage.district)


def _teaches(user: AnyUser, target: Any) -> bool:
    classroom = _classroom_of(target)
    if classroom is None:
        return False
    return bool(classroom.teachers.filter(pk=user.pk).exists())


def _sees(user: AnyUser, target: Any) -> bool:
    model = type(target)
    manager = model._default_manager
    return bool(manager.visible_to(user).filter(pk=target.pk).exists())  # type: ignore[attr-defined]


def _classroom_of(target: Any) -> Classroom | None:
    model_name = type(target).__name__
    if model_name == "Classroom":
        return target  # type: ignore[no-any-return]
    if model_name == "ClassroomUnit":
        return target.classroom  # type: ignore[no-any-return]
    return None

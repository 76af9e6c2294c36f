"""Who may export what, and which rows: the scope of an actor and the filters of an export.

- **Who**: a signed-in member of a district exports from that district only. District admins
  export the whole district. Student-level exports (scores, student growth, OneRoster results)
  are for district admins and teachers, a teacher's limited to the classrooms they teach;
  coaches get no student-level rows (``export_scope`` refuses with the reason).
- **Which rows**: every export starts from ``Model.objects.visible_to(actor)`` and only narrows
  it: to the actor's district, to the classrooms above, then to the filters (academic year,
  school, subject of the unit, unit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet

from classrooms import access
from classrooms.models import AcademicYear, Classroom, District, School
from units.models import ClassroomUnit, Unit

STUDENT_LEVEL_REFUSED = (
    "Student-level exports are for district admins and for teachers (their own classrooms). "
    "Coaches export aggregate growth for their schools, de-identified."
)
NO_ROLE_REFUSED = (
    "Exports are for the district's admins, coaches and teachers; this account has none of "
    "those roles yet."
)


@dataclass(frozen=True)
class ExportScope:
    """The actor, their district, and whether they export it whole (a district admin)."""

    actor: Any
    district: District
    is_district_admin: bool

    def classrooms_q(self, classroom_path: str) -> Q:
        """Rows (reaching Classroom by ``classroom_path``) whose student-level data the actor may
        export: the district's for its admins, otherwise the classrooms the actor teaches.

        It only narrows rows that already come through ``visible_to(actor)``. For an admin it is
        a plain filter on the district: a subquery of the district's classrooms makes
        PostgreSQL's planner misjudge its size and spend a second before the first row.
        """
        in_district = Q(**{f"{classroom_path}__school__district_id": self.district.pk})
        if self.is_district_admin:
            return in_district
        taught = Classroom.objects.visible_to(self.actor).filter(teachers=self.actor)
        return in_district & Q(**{f"{classroom_path}__in": taught.values("pk")})


def export_scope(*, actor: Any, student_level: bool) -> ExportScope:
    """The actor's export scope; PermissionDenied (with the reason) when they may not export.

    One condition per line, as in access.py.
    """
    if not actor.is_authenticated:
        raise PermissionDenied("Sign in to export.")
    if not actor.is_active:
        raise PermissionDenied("This account is deactivated.")
    district = District.objects.visible_to(actor).filter(pk=actor.district_id).first()
    if district is None:
        raise PermissionDenied("Exports belong to a district, and this account has none.")
    is_district_admin = access.can(actor, "manage_district", district)
    scope = ExportScope(actor=actor, district=district, is_district_admin=is_district_admin)
    if is_district_admin:
        return scope
    if _teaches_in(actor, district):
        return scope
    if student_level:
        raise PermissionDenied(STUDENT_LEVEL_REFUSED)
    if _coaches_in(actor, district):
        return scope
    raise PermissionDenied(NO_ROLE_REFUSED)


def _coaches_in(actor: Any, district: District) -> bool:
    return bool(
        School.objects.visible_to(actor).filter(district_id=district.pk, coaches=actor).exists()
    )


def _teaches_in(actor: Any, district: District) -> bool:
    return bool(
        Classroom.objects.visible_to(actor)
        .filter(school__district_id=district.pk, teachers=actor)
        .exists()
    )


@dataclass(frozen=True)
class ExportFilters:
    """Which rows: ids of an academic year, a school and a unit, and a unit subject (any of
    them empty for all). Ids are checked against ``visible_to`` by forms and serializers; rows
    are always read through the scope, so an id from elsewhere only finds nothing."""

    academic_year_id: int | None = None
    school_id: int | None = None
    subject: str = ""
    unit_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "academic_year": self.academic_year_id,
            "school": self.school_id,
            "subject": self.subject,
            "unit": self.unit_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExportFilters:
        return cls(
            academic_year_id=data.get("academic_year"),
            school_id=data.get("school"),
            subject=data.get("subject") or "",
            unit_id=data.get("unit"),
        )

    def apply(self, queryset: QuerySet[Any], classroom_unit_path: str) -> QuerySet[Any]:
        """Narrow rows that reach a ClassroomUnit by ``classroom_unit_path`` ('' for itself)."""
        prefix = f"{classroom_unit_path}__" if classroom_unit_path else ""
        if self.academic_year_id is not None:
            queryset = queryset.filter(
                **{f"{prefix}classroom__term__academic_year_id": self.academic_year_id}
            )
        if self.school_id is not None:
            queryset = queryset.filter(**{f"{prefix}classroom__school_id": self.school_id})
        if self.subject:
            queryset = queryset.filter(**{f"{prefix}unit__subject": self.subject})
        if self.unit_id is not None:
            queryset = queryset.filter(**{f"{prefix}unit_id": self.unit_id})
        return queryset


def export_filters_described(*, scope: ExportScope, filters: ExportFilters) -> dict[str, str]:
    """The filters as people read them in the audit log (names, with ids); unset ones left out."""
    actor = scope.actor
    described: dict[str, str] = {}
    if filters.academic_year_id is not None:
        year = AcademicYear.objects.visible_to(actor).filter(pk=filters.academic_year_id).first()
        described["academic year"] = _named(year, filters.academic_year_id)
    if filters.school_id is not None:
        school = School.objects.visible_to(actor).filter(pk=filters.school_id).first()
        described["school"] = _named(school, filters.school_id)
    if filters.subject:
        described["subject"] = filters.subject
    if filters.unit_id is not None:
        unit = Unit.objects.visible_to(actor).filter(pk=filters.unit_id).first()
        described["unit"] = _named(unit, filters.unit_id)
    return described


def _named(row: Model | None, pk: int) -> str:
    return f"{row} (#{pk})" if row is not None else f"#{pk} (not visible)"


def classroom_unit_ids(*, scope: ExportScope, filters: ExportFilters) -> list[int]:
    """The classroom units an export covers, in id order: how a job splits it into batches."""
    classroom_units = ClassroomUnit.objects.visible_to(scope.actor).filter(
        scope.classrooms_q("classroom")
    )
    return list(filters.apply(classroom_units, "").order_by("pk").values_list("pk", flat=True))

"""Reads for the unit planner: a person's unit library and a plan's data burden.

The data burden is what a plan asks teachers to type: for each assessment, the students of the
chosen sections × the skills it measures; and the sum over the unit. It is counted from the plan
as drawn (valid or not yet), so every added checkpoint shows its cost at once.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Prefetch, QuerySet

from classrooms import access
from classrooms.models import Classroom, Enrollment
from units.models import ClassroomUnit, Unit, UnitLineage
from units.services import AssessmentSpec, PlanSpec

_KIND_ORDER: dict[str, int] = {"pre": 0, "formative": 1, "post": 2}


@dataclass(frozen=True)
class BurdenLine:
    title: str
    kind: str
    week: int
    skills: int
    cells: int


@dataclass(frozen=True)
class Burden:
    """Cells to enter per assessment and for the whole unit, for ``students`` students."""

    students: int
    sections: int
    lines: list[BurdenLine]

    @property
    def total(self) -> int:
        return sum(line.cells for line in self.lines)


def section_student_counts(
    *, user: Any, classroom_ids: Iterable[int], today: datetime.date
) -> dict[int, int]:
    """Students enrolled today in each of the chosen sections the person may see."""
    return dict(
        Enrollment.objects.visible_to(user)
        .filter(classroom_id__in=list(classroom_ids))
        .current_on(today)
        .order_by()
        .values("classroom_id")
        .annotate(students=Count("student_id", distinct=True))
        .values_list("classroom_id", "students")
    )


def plan_burden(*, assessments: Iterable[AssessmentSpec], students: int, sections: int) -> Burden:
    """The data burden of a plan's assessments for ``students`` students (in ``sections``)."""
    ordered = sorted(
        assessments, key=lambda a: (a.week, _KIND_ORDER.get(a.kind, 1), a.title.strip())
    )
    lines = [
        BurdenLine(
            title=assessment.title.strip(),
            kind=assessment.kind,
            week=assessment.week,
            skills=len({measure.skill_code for measure in assessment.measures}),
            cells=students * len({measure.skill_code for measure in assessment.measures}),
        )
        for assessment in ordered
    ]
    return Burden(students=students, sections=sections, lines=lines)


def plan_burden_for_sections(
    *, user: Any, plan: PlanSpec, classroom_ids: Iterable[int], today: datetime.date
) -> Burden:
    counts = section_student_counts(user=user, classroom_ids=classroom_ids, today=today)
    return plan_burden(
        assessments=plan.assessments, students=sum(counts.values()), sections=len(counts)
    )


@dataclass
class LibraryEntry:
    """A unit in someone's library: its latest version and what they may do with it."""

    lineage: UnitLineage
    latest: Unit
    may_edit: bool
    may_share_in_district: bool
    classroom_units: list[ClassroomUnit] = field(default_factory=list)

    @property
    def is_mine(self) -> bool:
        return self.may_edit and self.lineage.author_id is not None


@dataclass
class Library:
    mine: list[LibraryEntry]
    school: list[LibraryEntry]
    district: list[LibraryEntry]
    others: list[LibraryEntry]
    may_write: bool


def unit_library(*, user: Any) -> Library:
    """The units a person may see in the planner, grouped: mine, shared by colleagues of my
    schools, the district's shared units, and (admins, coaches) the others they may read."""
    lineages = (
        UnitLineage.objects.visible_to(user)
        .select_related("author", "district", "academic_year")
        .prefetch_related(
            Prefetch("versions", queryset=Unit.objects.order_by("-version")),
        )
        .order_by("pk")
    )
    visible_classroom_units = ClassroomUnit.objects.visible_to(user).select_related(
        "classroom", "unit"
    )
    by_lineage: dict[int, list[ClassroomUnit]] = {}
    for classroom_unit in visible_classroom_units.filter(unit__lineage__in=lineages):
        by_lineage.setdefault(classroom_unit.unit.lineage_id, []).append(classroom_unit)
    library = Library(
        mine=[],
        school=[],
        district=[],
        others=[],
        may_write=bool(user.district_id) and access.can(user, "write_units", user.district),
    )
    for lineage in lineages:
        versions = list(lineage.versions.all())
        if not versions:
            continue
        entry = LibraryEntry(
            lineage=lineage,
            latest=versions[0],
            may_edit=access.can(user, "edit_unit", lineage),
            may_share_in_district=access.can(user, "manage_district", lineage),
            classroom_units=by_lineage.get(lineage.pk, []),
        )
        if lineage.author_id == user.pk:
            library.mine.append(entry)
        elif lineage.is_shared:
            library.district.append(entry)
        elif lineage.is_shared_in_school:
            library.school.append(entry)
        else:
            library.others.append(entry)
    for group in (library.mine, library.school, library.district, library.others):
        group.sort(key=lambda e: (e.latest.subject, e.latest.grade_level, e.latest.title))
    return library


def my_sections(*, user: Any) -> QuerySet[Classroom]:
    """Sections a person may start units in: the ones they teach (an admin: the district's)."""
    classrooms = Classroom.objects.visible_to(user).select_related("school", "term")
    if user.is_superuser or getattr(user, "is_district_admin", False):
        return classrooms.order_by("school__name", "name")
    return classrooms.filter(teachers=user).order_by("school__name", "name")

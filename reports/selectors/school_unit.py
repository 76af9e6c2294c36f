"""One unit in one school: the skill view and the group view."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.safestring import SafeString

from classrooms.models import School, StudentGroup
from reports import charts
from reports.models import (
    BreakdownPart,
    ClassroomUnitGrowthSummary,
    GrowthBuild,
    GrowthSummary,
    SchoolUnitGrowthSummary,
)
from reports.selectors.rows import (
    BuildStatus,
    SkillCell,
    Summary,
    build_status_of,
    chart_or_none,
    summary_of,
    summary_pre_post,
)
from reports.selectors.school import units_seen_whole, visible_classroom_units
from units.models import ClassroomUnit, Skill, Unit

# Skill view and group view of one unit in one school


@dataclass(frozen=True)
class SkillAcross:
    """One skill: the school's mean pre → post (when shown) and each classroom's, by name."""

    code: str
    description: str
    school: SkillCell | None
    classrooms: list[tuple[ClassroomUnit, SkillCell | None]]
    chart: SafeString | None


@dataclass(frozen=True)
class SchoolUnitSkills:
    school: School
    unit: Unit
    skills: list[SkillAcross]
    is_partial: bool
    status: BuildStatus


def _unit_rows(
    user: Any, school: School, unit: Unit, parts: Sequence[str]
) -> tuple[list[ClassroomUnit], list[ClassroomUnitGrowthSummary], list[GrowthSummary], bool]:
    visible = [cu for cu in visible_classroom_units(user, school) if cu.unit_id == unit.pk]
    leaves = list(
        ClassroomUnitGrowthSummary.objects.visible_to(user)
        .filter(classroom_unit__in=[cu.pk for cu in visible], part__in=parts)
        .select_related("student_group")
    )
    is_whole = unit.pk in units_seen_whole(school, visible)
    school_rows: list[GrowthSummary] = (
        list(
            SchoolUnitGrowthSummary.objects.visible_to(user)
            .filter(school=school, unit=unit, part__in=parts)
            .select_related("student_group")
        )
        if is_whole
        else []
    )
    return visible, leaves, school_rows, not is_whole


def _unit_status(user: Any, classroom_units: Sequence[ClassroomUnit]) -> BuildStatus:
    return build_status_of(
        GrowthBuild.objects.visible_to(user).filter(
            classroom_unit__in=[cu.pk for cu in classroom_units]
        )
    )


def school_unit_skills(*, user: Any, school: School, unit: Unit) -> SchoolUnitSkills:
    """Per skill of the unit, the school's and each classroom's mean pre → post. Six queries."""
    visible, leaves, school_rows, is_partial = _unit_rows(user, school, unit, [BreakdownPart.ALL])
    descriptions = dict(
        Skill.objects.visible_to(user).filter(unit=unit).values_list("code", "description")
    )
    by_classroom_unit = {row.classroom_unit_id: summary_of(row, descriptions) for row in leaves}
    school_summary = summary_of(school_rows[0], descriptions) if school_rows else None
    skills = []
    for code in sorted(descriptions):

        def cell(summary: Summary | None, code: str = code) -> SkillCell | None:
            if summary is None:
                return None
            return next((skill for skill in summary.skills if skill.code == code), None)

        school_cell = cell(school_summary)
        classrooms = [(cu, cell(by_classroom_unit.get(cu.pk))) for cu in visible]
        chart_rows: list[charts.PrePost | None] = []
        for label, skill in [("School", school_cell)] + [
            (cu.classroom.name, skill) for cu, skill in classrooms
        ]:
            if skill is None or skill.mean_pre is None or skill.mean_post is None:
                chart_rows.append(None)
                continue
            chart_rows.append(
                charts.PrePost(
                    label=label,
                    pre=skill.mean_pre,
                    post=skill.mean_post,
                    detail=f"{skill.n} students",
                )
            )
        skills.append(
            SkillAcross(
                code=code,
                description=descriptions[code],
                school=school_cell,
                classrooms=classrooms,
                chart=chart_or_none(
                    chart_rows,
                    chart_id=f"skill-{code}",
                    title=f"{code}: mean pre → post, school and classrooms",
                    plot_width=260,
                ),
            )
        )
    return SchoolUnitSkills(
        school=school,
        unit=unit,
        skills=skills,
        is_partial=is_partial,
        status=_unit_status(user, visible),
    )


@dataclass(frozen=True)
class GroupLine:
    label: str
    classroom_unit: ClassroomUnit | None
    in_group: Summary | None
    rest: Summary | None


@dataclass(frozen=True)
class GroupAcross:
    group: StudentGroup
    lines: list[GroupLine]
    chart: SafeString | None


@dataclass(frozen=True)
class SchoolUnitGroups:
    school: School
    unit: Unit
    minimum_n: int
    groups: list[GroupAcross]
    is_partial: bool
    status: BuildStatus


def school_unit_groups(*, user: Any, school: School, unit: Unit) -> SchoolUnitGroups:
    """Per student group: the group against the rest in the school and in each classroom,
    with suppressed cells marked as such. Seven queries."""
    visible, leaves, school_rows, is_partial = _unit_rows(
        user, school, unit, [BreakdownPart.GROUP, BreakdownPart.REST]
    )
    groups = list(
        StudentGroup.objects.visible_to(user)
        .filter(district_id=school.district_id)
        .order_by("name")
    )
    cells: dict[tuple[int | None, int, str], Summary] = {}
    for leaf in leaves:
        if leaf.student_group_id is not None:
            cells[(leaf.classroom_unit_id, leaf.student_group_id, leaf.part)] = summary_of(leaf)
    for row in school_rows:
        if row.student_group_id is not None:
            cells[(None, row.student_group_id, row.part)] = summary_of(row)
    result = []
    for group in groups:
        lines = []
        if not is_partial:
            lines.append(
                GroupLine(
                    label=f"{school.name} (all classrooms)",
                    classroom_unit=None,
                    in_group=cells.get((None, group.pk, BreakdownPart.GROUP)),
                    rest=cells.get((None, group.pk, BreakdownPart.REST)),
                )
            )
        lines.extend(
            GroupLine(
                label=cu.classroom.name,
                classroom_unit=cu,
                in_group=cells.get((cu.pk, group.pk, BreakdownPart.GROUP)),
                rest=cells.get((cu.pk, group.pk, BreakdownPart.REST)),
            )
            for cu in visible
        )
        chart_rows: list[charts.PrePost | None] = []
        if lines:
            first = lines[0]
            chart_rows = [
                summary_pre_post(group.name, first.in_group, "in the group"),
                summary_pre_post("Everyone else", first.rest, f"not {group.name}"),
            ]
        result.append(
            GroupAcross(
                group=group,
                lines=lines,
                chart=chart_or_none(
                    chart_rows,
                    chart_id=f"group-{group.pk}",
                    title=f"{group.name} and everyone else: mean pre → post ({lines[0].label})"
                    if lines
                    else group.name,
                    plot_width=240,
                ),
            )
        )
    return SchoolUnitGroups(
        school=school,
        unit=unit,
        minimum_n=school.district.minimum_n,
        groups=result,
        is_partial=is_partial,
        status=_unit_status(user, visible),
    )

"""A school's overview: its units, each with its classroom units."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count
from django.utils.safestring import SafeString

from classrooms.models import School
from reports import charts
from reports.models import (
    BreakdownPart,
    ClassroomUnitGrowthSummary,
    GrowthBuild,
    SchoolUnitGrowthSummary,
)
from reports.selectors.rows import (
    BuildStatus,
    Summary,
    build_status_of,
    chart_or_none,
    summary_of,
    summary_pre_post,
)
from units.models import ClassroomUnit, Unit

# School overview


@dataclass(frozen=True)
class ClassroomUnitLine:
    classroom_unit: ClassroomUnit
    summary: Summary | None
    chart: SafeString | None
    is_pending: bool


@dataclass(frozen=True)
class UnitSection:
    unit: Unit
    lines: list[ClassroomUnitLine]
    school_summary: Summary | None
    school_chart: SafeString | None
    skills_chart: SafeString | None
    is_partial: bool  # the user sees only some of the school's classrooms teaching this unit

    @property
    def has_growth(self) -> bool:
        """Some visible classroom has a student with both a pre and a post."""
        return any(line.summary is not None and line.summary.has_growth for line in self.lines)

    @property
    def in_progress_count(self) -> int:
        return sum(
            line.summary.incomplete_count or 0 for line in self.lines if line.summary is not None
        )


@dataclass(frozen=True)
class SchoolGrowth:
    school: School
    minimum_n: int
    sections: list[UnitSection]
    status: BuildStatus

    @property
    def with_growth(self) -> list[UnitSection]:
        return [section for section in self.sections if section.has_growth]

    @property
    def in_progress(self) -> list[UnitSection]:
        return [section for section in self.sections if not section.has_growth]


def visible_classroom_units(user: Any, school: School) -> list[ClassroomUnit]:
    return list(
        ClassroomUnit.objects.visible_to(user)
        .filter(classroom__school=school)
        .select_related("classroom", "unit")
        .order_by("unit__subject", "unit__grade_level", "unit__title", "classroom__name")
    )


def units_seen_whole(school: School, visible: Sequence[ClassroomUnit]) -> set[int]:
    """Units whose every classroom unit in the school the user sees (so its roll-up adds up
    only what they may see anyway)."""
    # cross-tenant: counts only, to decide whether a school roll-up may be shown to this user.
    totals = dict(
        ClassroomUnit.objects.all_schools()
        .filter(classroom__school=school)
        .values("unit_id")
        .annotate(count=Count("pk"))
        .values_list("unit_id", "count")
    )
    seen: defaultdict[int, int] = defaultdict(int)
    for classroom_unit in visible:
        seen[classroom_unit.unit_id] += 1
    return {unit_id for unit_id, count in totals.items() if seen[unit_id] == count}


def school_growth(*, user: Any, school: School) -> SchoolGrowth:
    """Per unit taught in the school: each visible classroom unit's growth, by classroom name,
    and the school × unit roll-up when the user sees all its classrooms. Six queries."""
    visible = visible_classroom_units(user, school)
    ids = [classroom_unit.pk for classroom_unit in visible]
    summaries = {
        row.classroom_unit_id: summary_of(row)
        for row in ClassroomUnitGrowthSummary.objects.visible_to(user).filter(
            classroom_unit_id__in=ids, part=BreakdownPart.ALL
        )
    }
    builds = list(GrowthBuild.objects.visible_to(user).filter(classroom_unit_id__in=ids))
    pending = {build.classroom_unit_id for build in builds if build.stale_since is not None}
    whole = units_seen_whole(school, visible)
    rollups = {
        row.unit_id: row
        for row in SchoolUnitGrowthSummary.objects.visible_to(user).filter(
            school=school, part=BreakdownPart.ALL, unit_id__in=whole
        )
    }
    by_unit: dict[int, list[ClassroomUnit]] = {}
    for classroom_unit in visible:
        by_unit.setdefault(classroom_unit.unit_id, []).append(classroom_unit)
    sections = []
    for unit_id, classroom_units in by_unit.items():
        unit = classroom_units[0].unit
        lines = [
            ClassroomUnitLine(
                classroom_unit=classroom_unit,
                summary=summaries.get(classroom_unit.pk),
                chart=chart_or_none(
                    [summary_pre_post("", summaries.get(classroom_unit.pk))],
                    chart_id=f"classroom-unit-{classroom_unit.pk}",
                    title=f"{classroom_unit.classroom.name}: mean pre → mean post",
                    plot_width=150,
                    is_small=True,
                ),
                is_pending=classroom_unit.pk in pending,
            )
            for classroom_unit in classroom_units
        ]
        school_summary = summary_of(rollups[unit_id]) if unit_id in rollups else None
        skills_source = school_summary
        if skills_source is None and len(lines) == 1:
            skills_source = lines[0].summary
        sections.append(
            UnitSection(
                unit=unit,
                lines=lines,
                school_summary=school_summary,
                school_chart=chart_or_none(
                    [summary_pre_post("", school_summary)],
                    chart_id=f"school-unit-{unit_id}",
                    title=f"{school}: mean pre → mean post in {unit}",
                    plot_width=180,
                ),
                skills_chart=chart_or_none(
                    [
                        charts.PrePost(label=skill.code, pre=skill.mean_pre, post=skill.mean_post)
                        if skill.mean_pre is not None and skill.mean_post is not None
                        else None
                        for skill in (skills_source.skills if skills_source else ())
                    ],
                    chart_id=f"school-unit-{unit_id}-skills",
                    title=f"{unit}: mean pre → post by skill",
                ),
                is_partial=unit_id not in whole,
            )
        )
    return SchoolGrowth(
        school=school,
        minimum_n=school.district.minimum_n,
        sections=sections,
        status=build_status_of(builds),
    )

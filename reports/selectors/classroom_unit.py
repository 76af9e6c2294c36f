"""One classroom unit's drill-down: students, groups, assessments."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.safestring import SafeString

from classrooms.models import StudentGroup
from reports import charts, growth
from reports.models import (
    BreakdownPart,
    ClassroomUnitGrowthSummary,
    GrowthBuild,
    StudentGrowth,
)
from reports.selectors.rows import (
    BuildStatus,
    SkillCell,
    Summary,
    build_status_of,
    chart_or_none,
    summary_of,
)
from units.models import Assessment, ClassroomUnit, Skill

# Classroom unit drill-down


@dataclass(frozen=True)
class StudentLine:
    name: str
    row: StudentGrowth


@dataclass(frozen=True)
class GroupBreakdown:
    group: StudentGroup
    in_group: Summary | None
    rest: Summary | None


@dataclass(frozen=True)
class ClassroomUnitGrowth:
    classroom_unit: ClassroomUnit
    minimum_n: int
    summary: Summary | None
    students: list[StudentLine]
    incomplete: list[StudentLine]
    skills: list[SkillCell]
    slope_chart: SafeString | None
    trajectory_chart: SafeString | None
    skills_chart: SafeString | None
    g_chart: SafeString | None
    at_ceiling_count: int
    assessments: list[charts.AssessmentMean]
    breakdowns: list[GroupBreakdown]
    status: BuildStatus
    growth_target: float = field(default=growth.DEFAULT_GROWTH_TARGET)


def classroom_unit_growth(*, user: Any, classroom_unit: ClassroomUnit) -> ClassroomUnitGrowth:
    """One classroom unit: its summary, every student's stored growth (by name), the class
    mean at each assessment, per-skill growth and the group breakdowns. Six queries."""
    district = classroom_unit.classroom.school.district
    rows = list(
        ClassroomUnitGrowthSummary.objects.visible_to(user)
        .filter(classroom_unit=classroom_unit)
        .select_related("student_group")
    )
    descriptions = dict(
        Skill.objects.visible_to(user)
        .filter(unit_id=classroom_unit.unit_id)
        .values_list("code", "description")
    )
    everyone = next((row for row in rows if row.part == BreakdownPart.ALL), None)
    summary = summary_of(everyone, descriptions) if everyone else None
    by_group: dict[int, dict[str, Summary]] = defaultdict(dict)
    groups: dict[int, StudentGroup] = {}
    for row in rows:
        if row.student_group is not None:
            groups[row.student_group.pk] = row.student_group
            by_group[row.student_group.pk][row.part] = summary_of(row, descriptions)
    breakdowns = [
        GroupBreakdown(
            group=group,
            in_group=by_group[group.pk].get(BreakdownPart.GROUP),
            rest=by_group[group.pk].get(BreakdownPart.REST),
        )
        for group in sorted(groups.values(), key=lambda group: group.name)
    ]

    student_rows = list(
        StudentGrowth.objects.visible_to(user)
        .filter(classroom_unit=classroom_unit)
        .select_related("student")
        .order_by("student__family_name", "student__given_name", "student__sis_id")
    )
    lines = [StudentLine(name=str(row.student), row=row) for row in student_rows]
    complete = [line for line in lines if line.row.is_complete]
    incomplete = [line for line in lines if not line.row.is_complete]

    assessments = list(
        Assessment.objects.visible_to(user)
        .filter(unit_id=classroom_unit.unit_id)
        .order_by("week", "kind", "title")
    )
    means = _assessment_means(assessments, student_rows)
    builds = GrowthBuild.objects.visible_to(user).filter(classroom_unit=classroom_unit)

    name = classroom_unit.classroom.name
    slope = (
        charts.slope_chart(
            [
                charts.StudentPrePost(
                    name=line.name,
                    pre=line.row.pre_percentage or 0.0,
                    post=line.row.post_percentage or 0.0,
                )
                for line in complete
            ],
            chart_id="slope",
            title=f"{name}: each student's pre → post percentage",
        )
        if complete
        else None
    )
    trajectories = [
        charts.StudentTrajectory(
            name=line.name,
            points=tuple(
                charts.TrajectoryPoint(week=float(week), percentage=float(percentage))
                for week, percentage in line.row.trajectory
            ),
            slope_per_week=line.row.slope_per_week,
        )
        for line in lines
    ]
    trajectory = (
        charts.trajectory_chart(
            trajectories,
            means,
            weeks=classroom_unit.unit.weeks,
            chart_id="trajectories",
            title=f"{name}: checkpoint percentages week by week",
        )
        if any(t.points for t in trajectories)
        else None
    )
    g_values = [
        line.row.normalized_gain for line in complete if line.row.normalized_gain is not None
    ]
    at_ceiling = sum(1 for line in complete if line.row.is_at_ceiling)
    g_chart = (
        charts.g_histogram(
            g_values,
            at_ceiling=at_ceiling,
            chart_id="g-distribution",
            title=f"{name}: distribution of normalized gain g",
        )
        if complete
        else None
    )
    skills = list(summary.skills) if summary else []
    return ClassroomUnitGrowth(
        classroom_unit=classroom_unit,
        minimum_n=district.minimum_n,
        summary=summary,
        students=lines,
        incomplete=incomplete,
        skills=skills,
        slope_chart=slope,
        trajectory_chart=trajectory,
        skills_chart=chart_or_none(
            [
                charts.PrePost(
                    label=skill.code,
                    pre=skill.mean_pre,
                    post=skill.mean_post,
                    detail=f"{skill.n} students",
                )
                if skill.mean_pre is not None and skill.mean_post is not None
                else None
                for skill in skills
            ],
            chart_id="skills",
            title=f"{name}: mean pre → post by skill",
            plot_width=240,
        ),
        g_chart=g_chart,
        at_ceiling_count=at_ceiling,
        assessments=means,
        breakdowns=breakdowns,
        status=build_status_of(builds),
        growth_target=float(district.growth_target),
    )


def _assessment_means(
    assessments: Sequence[Assessment], rows: Sequence[StudentGrowth]
) -> list[charts.AssessmentMean]:
    """The class mean percentage at each assessment week, from stored trajectories."""
    by_week: defaultdict[float, list[float]] = defaultdict(list)
    for row in rows:
        for week, percentage in row.trajectory:
            by_week[float(week)].append(float(percentage))
    titles: defaultdict[int, list[str]] = defaultdict(list)
    for assessment in assessments:
        titles[assessment.week].append(assessment.title)
    means = []
    for week in sorted(titles):
        values = by_week.get(float(week), [])
        means.append(
            charts.AssessmentMean(
                week=week,
                title=" and ".join(titles[week]),
                mean=sum(values) / len(values) if values else None,
                n=len(values),
            )
        )
    return means

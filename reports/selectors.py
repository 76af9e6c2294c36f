"""Report rows for the growth pages, read from stored summaries only (never from scores).

Every selector starts from ``visible_to(user)``, so a coach sees their schools, a teacher their
own classrooms and a district admin the district. A school × unit roll-up is shown only to
someone who sees every classroom unit it adds up: otherwise a teacher could subtract their own
classroom from the school and read another teacher's class. Each selector runs a fixed number
of queries, whatever the number of students.

Rows are ordered by name (classrooms, students) or by code (skills), never by growth: the pages
show growth, they do not rank students or teachers. Definitions: reports/growth/.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count
from django.utils.safestring import SafeString

from classrooms.models import District, School, StudentGroup
from reports import charts, growth
from reports.models import (
    BreakdownPart,
    ClassroomUnitGrowthSummary,
    DistrictUnitGrowthSummary,
    GrowthBuild,
    GrowthSummary,
    SchoolUnitGrowthSummary,
    StudentGrowth,
    SuppressionReason,
)
from units.models import Assessment, ClassroomUnit, Skill, Unit

BAND_ORDER = [band.value for band in growth.ProficiencyBand]


# --------------------------------------------------------------------------------------------
# One stored summary row, as shown
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SkillCell:
    """One skill of a summary: means over the students with it at pre and post, or hidden."""

    code: str
    description: str = ""
    is_suppressed: bool = False
    n: int | None = None
    mean_pre: float | None = None
    mean_post: float | None = None

    @property
    def gain(self) -> float | None:
        if self.mean_pre is None or self.mean_post is None:
            return None
        return self.mean_post - self.mean_pre


@dataclass(frozen=True)
class SkillGap:
    code: str
    is_suppressed: bool
    pre_gap: float | None = None
    post_gap: float | None = None
    gap_change: float | None = None


@dataclass(frozen=True)
class Transition:
    """Students who started in one proficiency band, counted by the band they ended in."""

    pre_band: str
    counts: tuple[int, ...]


@dataclass(frozen=True)
class Summary:
    """The shown statistics of one stored summary row; its moments are never read."""

    is_suppressed: bool
    is_small: bool
    n: int | None
    incomplete_count: int | None
    mean_pre: float | None
    mean_post: float | None
    mean_gain: float | None
    mean_gain_lower: float | None
    mean_gain_upper: float | None
    class_average_normalized_gain: float | None
    hake_band: str
    mean_individual_normalized_gain: float | None
    at_ceiling_count: int | None
    little_room_to_grow_count: int | None
    effect_size_d_av: float | None
    target_met_count: int | None
    share_meeting_target: float | None
    transitions: tuple[Transition, ...]
    skills: tuple[SkillCell, ...]
    pre_gap: float | None
    post_gap: float | None
    gap_change: float | None
    skill_gaps: tuple[SkillGap, ...]
    built_at: datetime

    @property
    def has_growth(self) -> bool:
        """Shown, with at least one student who has both a pre and a post."""
        return not self.is_suppressed and bool(self.n)


def summary_of(row: GrowthSummary, skill_descriptions: dict[str, str] | None = None) -> Summary:
    descriptions = skill_descriptions or {}
    skills = []
    for code, means in sorted(row.skill_means.items()):
        if means.get("suppressed"):
            skills.append(
                SkillCell(code=code, description=descriptions.get(code, ""), is_suppressed=True)
            )
        else:
            skills.append(
                SkillCell(
                    code=code,
                    description=descriptions.get(code, ""),
                    n=means["n"],
                    mean_pre=means["pre"],
                    mean_post=means["post"],
                )
            )
    return Summary(
        is_suppressed=row.is_suppressed,
        is_small=row.suppression_reason == SuppressionReason.FEWER_THAN_MINIMUM,
        n=row.n,
        incomplete_count=row.incomplete_count,
        mean_pre=row.mean_pre_percentage,
        mean_post=row.mean_post_percentage,
        mean_gain=row.mean_gain,
        mean_gain_lower=row.mean_gain_lower,
        mean_gain_upper=row.mean_gain_upper,
        class_average_normalized_gain=row.class_average_normalized_gain,
        hake_band=row.hake_band,
        mean_individual_normalized_gain=row.mean_individual_normalized_gain,
        at_ceiling_count=row.at_ceiling_count,
        little_room_to_grow_count=row.little_room_to_grow_count,
        effect_size_d_av=row.effect_size_d_av,
        target_met_count=row.target_met_count,
        share_meeting_target=row.share_meeting_target,
        transitions=tuple(
            Transition(
                pre_band=before,
                counts=tuple(
                    int(row.band_transitions.get(f"{before}>{after}", 0)) for after in BAND_ORDER
                ),
            )
            for before in BAND_ORDER
        )
        if row.band_transitions
        else (),
        skills=tuple(skills),
        pre_gap=row.pre_gap,
        post_gap=row.post_gap,
        gap_change=row.gap_change,
        skill_gaps=tuple(
            SkillGap(code=code, is_suppressed=True)
            if gaps.get("suppressed")
            else SkillGap(
                code=code,
                is_suppressed=False,
                pre_gap=gaps["pre"],
                post_gap=gaps["post"],
                gap_change=gaps["change"],
            )
            for code, gaps in sorted(row.skill_gaps.items())
        ),
        built_at=row.built_at,
    )


def _pre_post(label: str, summary: Summary | None, detail: str = "") -> charts.PrePost | None:
    if summary is None or not summary.has_growth:
        return None
    if summary.mean_pre is None or summary.mean_post is None:
        return None
    return charts.PrePost(label=label, pre=summary.mean_pre, post=summary.mean_post, detail=detail)


def _chart_or_none(
    rows: Iterable[charts.PrePost | None],
    *,
    chart_id: str,
    title: str,
    plot_width: int = 220,
    is_small: bool = False,
) -> SafeString | None:
    shown = [row for row in rows if row is not None]
    if not shown:
        return None
    return charts.pre_post_chart(
        shown,
        chart_id=chart_id,
        title=title,
        plot_width=plot_width,
        axis_title="" if is_small else "mean percentage (pre ○ → post ●)",
    )


# --------------------------------------------------------------------------------------------
# Build status
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildStatus:
    """When the shown rows were built, whether a score change is waiting to be built, and
    whether the update of some classroom units failed (their rows are those last built)."""

    built_at: datetime | None
    pending_count: int
    pending_since: datetime | None
    failed_count: int = 0
    failed_at: datetime | None = None
    failure_message: str = ""

    @property
    def is_pending(self) -> bool:
        return self.pending_count > 0

    @property
    def is_failed(self) -> bool:
        return self.failed_count > 0


def _has_failed(build: GrowthBuild) -> bool:
    """A recorded failure counts until a build started after it."""
    if build.failed_at is None:
        return False
    return build.built_at is None or build.built_at < build.failed_at


def _failed_at(build: GrowthBuild) -> datetime:
    assert build.failed_at is not None  # noqa: S101 - only failed builds are sorted by it
    return build.failed_at


def _build_status(builds: Iterable[GrowthBuild]) -> BuildStatus:
    builds = list(builds)
    built = [build.built_at for build in builds if build.built_at is not None]
    failed = sorted((build for build in builds if _has_failed(build)), key=_failed_at)
    pending = [
        build.stale_since
        for build in builds
        if build.stale_since is not None and not _has_failed(build)
    ]
    return BuildStatus(
        built_at=max(built) if built else None,
        pending_count=len(pending),
        pending_since=min(pending) if pending else None,
        failed_count=len(failed),
        failed_at=failed[-1].failed_at if failed else None,
        failure_message=failed[-1].failure_message if failed else "",
    )


# --------------------------------------------------------------------------------------------
# Reports home
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DistrictUnitLine:
    unit: Unit
    summary: Summary
    chart: SafeString | None


@dataclass(frozen=True)
class ReportsHome:
    schools: list[School]
    district: District | None
    district_units: list[DistrictUnitLine]


def reports_home(*, user: Any) -> ReportsHome:
    """The schools a user may open, and for a district admin the district × unit roll-ups."""
    schools = list(School.objects.visible_to(user).order_by("name"))
    rows = list(
        DistrictUnitGrowthSummary.objects.visible_to(user)
        .filter(part=BreakdownPart.ALL)
        .select_related("unit", "district")
        .order_by("unit__subject", "unit__grade_level", "unit__title")
    )
    lines = []
    for row in rows:
        summary = summary_of(row)
        lines.append(
            DistrictUnitLine(
                unit=row.unit,
                summary=summary,
                chart=_chart_or_none(
                    [_pre_post("", summary)],
                    chart_id=f"district-unit-{row.unit_id}",
                    title=f"{row.unit}: district mean pre → post",
                    plot_width=150,
                    is_small=True,
                ),
            )
        )
    return ReportsHome(
        schools=schools, district=rows[0].district if rows else None, district_units=lines
    )


# --------------------------------------------------------------------------------------------
# School overview
# --------------------------------------------------------------------------------------------


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


def _visible_classroom_units(user: Any, school: School) -> list[ClassroomUnit]:
    return list(
        ClassroomUnit.objects.visible_to(user)
        .filter(classroom__school=school)
        .select_related("classroom", "unit")
        .order_by("unit__subject", "unit__grade_level", "unit__title", "classroom__name")
    )


def _units_seen_whole(school: School, visible: Sequence[ClassroomUnit]) -> set[int]:
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
    visible = _visible_classroom_units(user, school)
    ids = [classroom_unit.pk for classroom_unit in visible]
    summaries = {
        row.classroom_unit_id: summary_of(row)
        for row in ClassroomUnitGrowthSummary.objects.visible_to(user).filter(
            classroom_unit_id__in=ids, part=BreakdownPart.ALL
        )
    }
    builds = list(GrowthBuild.objects.visible_to(user).filter(classroom_unit_id__in=ids))
    pending = {build.classroom_unit_id for build in builds if build.stale_since is not None}
    whole = _units_seen_whole(school, visible)
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
                chart=_chart_or_none(
                    [_pre_post("", summaries.get(classroom_unit.pk))],
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
                school_chart=_chart_or_none(
                    [_pre_post("", school_summary)],
                    chart_id=f"school-unit-{unit_id}",
                    title=f"{school}: mean pre → mean post in {unit}",
                    plot_width=180,
                ),
                skills_chart=_chart_or_none(
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
        status=_build_status(builds),
    )


# --------------------------------------------------------------------------------------------
# Classroom unit drill-down
# --------------------------------------------------------------------------------------------


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
        skills_chart=_chart_or_none(
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
        status=_build_status(builds),
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


# --------------------------------------------------------------------------------------------
# Skill view and group view of one unit in one school
# --------------------------------------------------------------------------------------------


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
    visible = [cu for cu in _visible_classroom_units(user, school) if cu.unit_id == unit.pk]
    leaves = list(
        ClassroomUnitGrowthSummary.objects.visible_to(user)
        .filter(classroom_unit__in=[cu.pk for cu in visible], part__in=parts)
        .select_related("student_group")
    )
    is_whole = unit.pk in _units_seen_whole(school, visible)
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
    return _build_status(
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
                chart=_chart_or_none(
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
                _pre_post(group.name, first.in_group, "in the group"),
                _pre_post("Everyone else", first.rest, f"not {group.name}"),
            ]
        result.append(
            GroupAcross(
                group=group,
                lines=lines,
                chart=_chart_or_none(
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

"""What the stored growth rows must be, worked out with reports/growth/ alone.

The rebuild (reports/growth_build/) applies growth.py's rules in SQL; the tests compare every
row it stores with the rows this oracle computes student by student and group by group with
growth.py's functions (``student_growth``, ``group_summary``, ``student_group_breakdown``) and its
suppression rule (``nested_breakdown_suppression``, arranged over the hierarchy by
reports/growth_build/suppression.py, which only walks the levels). Slow and plain on purpose.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from assessments.models import Score
from classrooms.models import District, Enrollment, Student, StudentGroup
from reports import growth
from reports.growth_build.suppression import Counts, Node, suppression_flags
from units.models import Assessment, AssessmentSkill, ClassroomUnit

_KIND_RANK = {"pre": 0, "formative": 1, "post": 2}
_STUDENT_KEYS = ("classroom_unit_id", "student_id")
_SUMMARY_KEYS = (
    "classroom_unit_id",
    "school_id",
    "district_id",
    "unit_id",
    "student_group_id",
    "part",
)
SUPPRESSED: dict[str, Any] = {"suppressed": True}


def _layout(unit_id: int) -> tuple[list[Assessment], list[str]]:
    """The unit's assessments in trajectory order (growth.checkpoint_trajectory: week, pre first
    and post last within a week, then title and id) and the codes its pre and post measure."""
    assessments = sorted(
        Assessment.objects.all_schools().filter(unit_id=unit_id),
        key=lambda a: (a.week, _KIND_RANK[a.kind], a.title, a.pk),
    )
    codes = sorted(
        set(
            AssessmentSkill.objects.all_schools()
            .filter(assessment__unit_id=unit_id)
            .exclude(assessment__kind="formative")
            .values_list("skill__code", flat=True)
        )
    )
    return assessments, codes


def student_rows(district: District) -> dict[tuple[int, int], dict[str, Any]]:
    """Every student row of the district, as StudentGrowth stores it (without built_at)."""
    return {key: row for key, (row, _) in _students(district).items()}


def _students(
    district: District,
) -> dict[tuple[int, int], tuple[dict[str, Any], growth.StudentGrowth]]:
    """Each student's stored row, and their growth with per-skill percentages as growth.py
    gives it."""
    rows = {}
    settings = growth.GrowthSettings(
        growth_target=float(district.growth_target),
        proficiency_cut=float(district.proficiency_cut),
        developing_cut=float(district.developing_cut),
    )
    for classroom_unit in ClassroomUnit.objects.all_schools().filter(
        classroom__school__district=district
    ):
        assessments, codes = _layout(classroom_unit.unit_id)
        scores: defaultdict[int, defaultdict[int, list[growth.SkillScore]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for score in Score.objects.all_schools().filter(classroom_unit=classroom_unit):
            measure = score.assessment_skill
            scores[score.student_id][measure.assessment_id].append(
                growth.SkillScore(
                    skill_code=measure.skill.code,
                    points=score.points,
                    max_points=measure.max_points,
                    status=score.status,
                )
            )
        enrolled = set(
            Enrollment.objects.all_schools()
            .filter(classroom=classroom_unit.classroom, start_date__lte=classroom_unit.ends_on)
            .exclude(end_date__lt=classroom_unit.start_date)
            .values_list("student_id", flat=True)
        )
        for student_id in enrolled | set(scores):
            rows[(classroom_unit.pk, student_id)] = _student_row(
                assessments, codes, scores[student_id], settings
            )
    return rows


def _student_row(
    assessments: list[Assessment],
    codes: list[str],
    scores: dict[int, list[growth.SkillScore]],
    settings: growth.GrowthSettings,
) -> tuple[dict[str, Any], growth.StudentGrowth]:
    percentages = [growth.assessment_percentage(scores.get(a.pk, [])) for a in assessments]
    by_kind = {a.kind: (a, p) for a, p in zip(assessments, percentages, strict=True)}

    def skills(kind: str) -> dict[str, float]:
        if kind not in by_kind:
            return {}
        return growth.skill_percentages(scores.get(by_kind[kind][0].pk, []))

    def points(entry: tuple[Assessment, Any] | None, code: str) -> int | None:
        """A skill's points at an assessment, in hundredths (None unless scored)."""
        if entry is None:
            return None
        for score in scores.get(entry[0].pk, []):
            if score.skill_code == code and score.points is not None:
                return int(score.points * 100)
        return None

    pre = by_kind.get("pre", (None, None))
    post = by_kind.get("post", (None, None))
    result = growth.student_growth(
        pre_percentage=pre[1],
        post_percentage=post[1],
        pre_week=pre[0].week if pre[0] else 1,
        post_week=post[0].week if post[0] else 1,
        formative_percentages=[
            (a.week, p)
            for a, p in zip(assessments, percentages, strict=True)
            if a.kind == "formative"
        ],
        settings=settings,
        pre_skill_percentages=skills("pre"),
        post_skill_percentages=skills("post"),
    )
    row = {
        "pre_percentage": result.pre_percentage,
        "post_percentage": result.post_percentage,
        "gain": result.gain,
        "normalized_gain": result.normalized_gain,
        "is_at_ceiling": result.is_at_ceiling,
        "has_little_room_to_grow": result.has_little_room_to_grow,
        "slope_per_week": result.slope_per_week,
        "is_target_met": result.is_target_met,
        "is_complete": result.is_complete,
        "pre_band": "" if result.pre_band is None else result.pre_band.value,
        "post_band": "" if result.post_band is None else result.post_band.value,
        "checkpoint_weeks": [a.week for a in assessments],
        "checkpoint_percentages": percentages,
        "skill_codes": codes,
        "pre_skill_points": [points(by_kind.get("pre"), code) for code in codes],
        "post_skill_points": [points(by_kind.get("post"), code) for code in codes],
    }
    return row, result


def summary_rows(district: District) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Every summary row of the district, keyed as ``builders.summaries_snapshot`` keys them
    (model name, node, student group, part), with the stored columns that snapshot keeps."""
    students = _students(district)
    group_ids = list(
        StudentGroup.objects.all_schools()
        .filter(district=district)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    membership: defaultdict[int, set[int]] = defaultdict(set)
    for student_id, group_id in Student.groups.through.objects.filter(
        studentgroup_id__in=group_ids
    ).values_list("student_id", "studentgroup_id"):
        membership[student_id].add(group_id)

    # Every node with its students: classroom units, schools × units, district × units.
    members: defaultdict[tuple[str, int, int], list[tuple[int, growth.StudentGrowth]]] = (
        defaultdict(list)
    )
    nodes: dict[tuple[str, int, int], Node] = {}
    for classroom_unit in (
        ClassroomUnit.objects.all_schools()
        .filter(classroom__school__district=district)
        .select_related("classroom")
    ):
        unit_id, school_id = classroom_unit.unit_id, classroom_unit.classroom.school_id
        for node in (
            Node("classroom_unit", unit_id, classroom_unit.pk, school_id),
            Node("school", unit_id, school_id, school_id),
            Node("district", unit_id, district.pk, None),
        ):
            nodes[node.key] = node
        for (cu_id, student_id), (_, growth_of_student) in students.items():
            if cu_id == classroom_unit.pk:
                student = (student_id, growth_of_student)
                for key in (
                    ("classroom_unit", unit_id, cu_id),
                    ("school", unit_id, school_id),
                    ("district", unit_id, district.pk),
                ):
                    members[key].append(student)

    def cell(key: tuple[str, int, int], group_id: int, inside: bool) -> growth.GroupSummary:
        return growth.group_summary(
            student
            for student_id, student in members[key]
            if (group_id in membership[student_id]) == inside
        )

    count_rows = []
    for key in nodes:
        for group_id in group_ids:
            for part, inside in (("group", True), ("rest", False)):
                summary = cell(key, group_id, inside)
                count_rows.append((*key, group_id, None, part, summary.n))
                count_rows += [
                    (*key, group_id, code, part, means.n)
                    for code, means in summary.skill_means.items()
                ]
    flags = {
        (flag.node, flag.student_group_id): flag
        for flag in suppression_flags(
            nodes=nodes.values(),
            counts=Counts(count_rows),
            group_ids=group_ids,
            minimum_n=district.minimum_n,
        )
    }

    models = {
        "classroom_unit": ("ClassroomUnitGrowthSummary", lambda k: (k[2],)),
        "school": ("SchoolUnitGrowthSummary", lambda k: (k[2], k[1])),
        "district": ("DistrictUnitGrowthSummary", lambda k: (k[2], k[1])),
    }
    rows = {}
    for key in nodes:
        model, node_fields = models[key[0]]
        everyone = growth.group_summary(student for _, student in members[key])
        rows[(model, *node_fields(key), None, "all")] = _shown(everyone)
        if key[0] == "classroom_unit" and everyone.n == 0:
            continue  # no growth to break down yet
        for group_id in group_ids:
            flag = flags[(key, group_id)]
            group, rest = cell(key, group_id, True), cell(key, group_id, False)
            group_key = (model, *node_fields(key), group_id, "group")
            rest_key = (model, *node_fields(key), group_id, "rest")
            if flag.is_hidden:
                rows[group_key] = _hidden(group, district.minimum_n)
                rows[rest_key] = _hidden(rest, district.minimum_n)
                continue
            breakdown = growth.student_group_breakdown(
                group=group, rest=rest, minimum_n=district.minimum_n
            )
            codes = set(group.skill_means) | set(rest.skill_means)
            rows[group_key] = _shown(group) | {
                "skill_means": _skill_means(group, codes, flag.hidden_codes),
                "pre_gap": breakdown.pre_gap,
                "post_gap": breakdown.post_gap,
                "gap_change": breakdown.gap_change,
                "skill_gaps": {
                    code: SUPPRESSED
                    if code in flag.hidden_codes or isinstance(gaps.gap_change, growth.Suppressed)
                    else {"pre": gaps.pre_gap, "post": gaps.post_gap, "change": gaps.gap_change}
                    for code, gaps in breakdown.skills.items()
                },
            }
            rows[rest_key] = _shown(rest) | {
                "skill_means": _skill_means(rest, codes, flag.hidden_codes)
            }
    return rows


def _skill_means(
    summary: growth.GroupSummary, codes: set[str], hidden: Sequence[str]
) -> dict[str, Any]:
    return {
        code: SUPPRESSED
        if code in hidden
        else {
            "n": summary.skill_means[code].n,
            "pre": summary.skill_means[code].mean_pre_percentage,
            "post": summary.skill_means[code].mean_post_percentage,
        }
        for code in codes
    }


def _shown(summary: growth.GroupSummary) -> dict[str, Any]:
    interval = summary.mean_gain_confidence_interval
    return {
        "is_suppressed": False,
        "suppression_reason": "",
        "n": summary.n,
        "incomplete_count": summary.incomplete_count,
        "mean_pre_percentage": summary.mean_pre_percentage,
        "mean_post_percentage": summary.mean_post_percentage,
        "mean_gain": summary.mean_gain,
        "mean_gain_lower": None if interval is None else interval.lower,
        "mean_gain_upper": None if interval is None else interval.upper,
        "class_average_normalized_gain": summary.class_average_normalized_gain,
        "hake_band": "" if summary.hake_band is None else summary.hake_band.value,
        "mean_individual_normalized_gain": summary.mean_individual_normalized_gain,
        "at_ceiling_count": summary.at_ceiling_count,
        "little_room_to_grow_count": summary.little_room_to_grow_count,
        "effect_size_d_av": summary.effect_size_d_av,
        "target_met_count": summary.target_met_count,
        "share_meeting_target": summary.share_meeting_target,
        "band_transitions": {
            f"{before.value}>{after.value}": count
            for (before, after), count in summary.band_transition_counts.items()
        },
        "skill_means": {
            code: {
                "n": means.n,
                "pre": means.mean_pre_percentage,
                "post": means.mean_post_percentage,
            }
            for code, means in summary.skill_means.items()
        },
        "pre_gap": None,
        "post_gap": None,
        "gap_change": None,
        "skill_gaps": {},
    }


def _hidden(summary: growth.GroupSummary, minimum_n: int) -> dict[str, Any]:
    return {key: None for key in _shown(summary)} | {
        "is_suppressed": True,
        "suppression_reason": "fewer_than_minimum"
        if summary.n < minimum_n
        else "protects_small_cell",
        "hake_band": "",
        "band_transitions": {},
        "skill_means": {},
        "skill_gaps": {},
    }


def assert_stored_rows_match(district: District) -> None:
    """The district's stored student and summary rows are what growth.py gives (floats to 9
    places, as the snapshots round them)."""
    from tests.reports.builders import _rounded, students_snapshot, summaries_snapshot

    expected_students = {key: _rounded(row) for key, row in student_rows(district).items()}
    stored_students = {
        key: {name: value for name, value in row.items() if name not in _STUDENT_KEYS}
        for key, row in students_snapshot().items()
        if key in expected_students or row_in_district(key[0], district)
    }
    _assert_same_rows(stored_students, expected_students)

    expected_summaries = {key: _rounded(row) for key, row in summary_rows(district).items()}
    stored_summaries = {
        key: {name: value for name, value in row.items() if name not in _SUMMARY_KEYS}
        for key, row in summaries_snapshot().items()
        if key in expected_summaries or summary_in_district(key, district)
    }
    _assert_same_rows(stored_summaries, expected_summaries)


def _assert_same_rows(
    stored: dict[Any, dict[str, Any]], expected: dict[Any, dict[str, Any]]
) -> None:
    """Row by row, naming the first row and the columns that differ."""
    assert stored.keys() == expected.keys()
    for key, row in expected.items():
        differing = {
            name: (stored[key].get(name), value)
            for name, value in row.items()
            if stored[key].get(name) != value
        }
        assert not differing, f"{key}: stored, expected {differing}"


def row_in_district(classroom_unit_id: int, district: District) -> bool:
    return (
        ClassroomUnit.objects.all_schools()
        .filter(pk=classroom_unit_id, classroom__school__district=district)
        .exists()
    )


def summary_in_district(key: tuple[Any, ...], district: District) -> bool:
    model = key[0]
    if model == "ClassroomUnitGrowthSummary":
        return row_in_district(key[1], district)
    if model == "SchoolUnitGrowthSummary":
        return district.schools.filter(pk=key[1]).exists()
    return key[1] == district.pk

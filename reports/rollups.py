"""Group summaries from student rows: cells of moments, suppression across levels, rows.

The statistics and suppression rules are in reports/growth.py (PRODUCT.md, "Growth, defined
once"); this module only arranges them over the hierarchy district × unit → school × unit →
classroom unit, and writes the summary rows. reports/services.py calls it inside its
transactions and locks; on PostgreSQL the full rebuild does the same in SQL
(reports/growth_sql.py), which uses ``hierarchy_flags`` from here for suppression.

A *cell* is one group of students at one node: everyone (``ALL``), the students in a student
group, or the rest. Cells hold ``growth.GrowthMoments``, which add up, so a school's cells are
the sum of its classroom units' and the district's the sum of its schools'. Every node's row of
everyone stores the moments of all its cells (``cells_vector``). So after one class's scores
change (``classroom_unit_publish``) only that classroom unit is computed from its students; its
school and district become stored − the class's old cells + its new cells, and unless the
class's counts changed no suppression can change either: the work grows with the class, not
with the district. Student-group memberships that change without a score change reach the
summaries with the next full rebuild.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.db import connection, models

from classrooms.models import District, Student
from reports import growth
from reports.models import (
    BreakdownPart,
    ClassroomUnitGrowthSummary,
    DistrictUnitGrowthSummary,
    GrowthSummary,
    SchoolUnitGrowthSummary,
    StudentGrowth,
    SuppressionReason,
)
from units.models import ClassroomUnit

CellKey = tuple[int | None, str]
Cells = dict[CellKey, growth.GrowthMoments]
ALL: CellKey = (None, BreakdownPart.ALL.value)
GROUP = BreakdownPart.GROUP.value
REST = BreakdownPart.REST.value
EMPTY = growth.GrowthMoments()
SUPPRESSED_SKILL: dict[str, Any] = {"suppressed": True}

# Node keys in suppression flags: ("district", id), ("school", id), ("classroom_unit", id).
NodeKey = tuple[str, int]
# (node, student group id, skill code or None for the whole cell) → hidden?
Flags = dict[tuple[NodeKey, int, Any], bool]
# (members n, rest n) of one student group at one node, overall or for one skill. Counts are
# keyed by (student group id, skill code or None); a code is any key: a skill code here, a
# skill's index in reports/growth_sql.py.
Pair = tuple[int, int]


def group_key(group_id: int) -> CellKey:
    return (group_id, GROUP)


def rest_key(group_id: int) -> CellKey:
    return (group_id, REST)


def cell_keys(group_ids: Sequence[int]) -> list[CellKey]:
    """Everyone, then each student group's members and rest: the cells of every node."""
    return [ALL] + [
        key for group_id in group_ids for key in (group_key(group_id), rest_key(group_id))
    ]


def cells_merge(many: Iterable[Mapping[CellKey, growth.GrowthMoments]]) -> Cells:
    """Add cells key by key."""
    total: Cells = {}
    for cells in many:
        for key, moments in cells.items():
            total[key] = total[key] + moments if key in total else moments
    return total


# --------------------------------------------------------------------------------------------
# Stored moments: every cell of a node as rows of numbers
# --------------------------------------------------------------------------------------------

# One cell's numbers, then (n, pre sum, post sum) for each skill of the node's skill codes.
# reports/growth_sql.py writes the same layout.
CELL_FIELDS = (
    "incomplete",
    "n",
    "pre_mean",
    "pre_m2",
    "post_mean",
    "post_m2",
    "gain_mean",
    "gain_m2",
    "g_count",
    "g_sum",
    "at_ceiling",
    "little_room",
    "target_met",
    *(f"transition_{index}" for index in range(len(growth.BAND_PAIRS))),
)


def moments_vector(moments: growth.GrowthMoments, skill_codes: Sequence[str]) -> list[float]:
    """One cell's moments as numbers (``CELL_FIELDS``, then per skill n, pre sum, post sum)."""
    values: list[float] = [moments.incomplete_count, moments.n]
    for running in (moments.pre, moments.post, moments.gain):
        values += [running.mean, running.squared_deviations]
    values += [
        moments.individual_gain_count,
        moments.individual_gain_sum,
        moments.at_ceiling_count,
        moments.little_room_to_grow_count,
        moments.target_met_count,
        *moments.band_transition_counts,
    ]
    empty = growth.SkillMoments()
    for code in skill_codes:
        skill = moments.skills.get(code, empty)
        values += [skill.n, skill.pre_sum, skill.post_sum]
    return [float(value) for value in values]


def moments_from_vector(
    values: Sequence[float], skill_codes: Sequence[str]
) -> growth.GrowthMoments:
    """The inverse of ``moments_vector`` (skills without students left out)."""
    (incomplete, n, pre_mean, pre_m2, post_mean, post_m2, gain_mean, gain_m2) = values[:8]
    g_count, g_sum, at_ceiling, little_room, target_met = values[8:13]
    transitions = values[13 : len(CELL_FIELDS)]
    count = int(n)

    def running(mean: float, m2: float) -> growth.RunningMoments:
        if count == 0:
            return growth.RunningMoments()
        return growth.RunningMoments(count=count, mean=float(mean), squared_deviations=float(m2))

    skills = {}
    for index, code in enumerate(skill_codes):
        skill_n, pre_sum, post_sum = values[len(CELL_FIELDS) + 3 * index :][:3]
        if skill_n:
            skills[code] = growth.SkillMoments(int(skill_n), float(pre_sum), float(post_sum))
    return growth.GrowthMoments(
        incomplete_count=int(incomplete),
        pre=running(pre_mean, pre_m2),
        post=running(post_mean, post_m2),
        gain=running(gain_mean, gain_m2),
        individual_gain_count=int(g_count),
        individual_gain_sum=float(g_sum),
        at_ceiling_count=int(at_ceiling),
        little_room_to_grow_count=int(little_room),
        target_met_count=int(target_met),
        band_transition_counts=tuple(int(count) for count in transitions),
        skills=skills,
    )


def cells_vector(
    cells: Mapping[CellKey, growth.GrowthMoments],
    group_ids: Sequence[int],
    skill_codes: Sequence[str],
) -> list[list[float]]:
    """Every cell of a node (``cell_keys`` order), one row of numbers each."""
    return [moments_vector(cells.get(key, EMPTY), skill_codes) for key in cell_keys(group_ids)]


def cells_from_vector(
    vector: Sequence[Sequence[float]], group_ids: Sequence[int], skill_codes: Sequence[str]
) -> Cells:
    return {
        key: moments_from_vector(values, skill_codes)
        for key, values in zip(cell_keys(group_ids), vector, strict=True)
    }


# --------------------------------------------------------------------------------------------
# Replacing one part of a sum: stored total − old part + new part
# --------------------------------------------------------------------------------------------

# Removing a part leaves an M2 good to about this many times the total's; below it the result
# is recomputed from the parts instead (e.g. every remaining value equal, where M2 must be 0).
_CANCELLATION = 1e-9


class Cancelled(Exception):
    """Subtracting moments would lose the precision of a result; recompute it from its parts."""


def _running_minus(
    total: growth.RunningMoments, part: growth.RunningMoments
) -> growth.RunningMoments:
    """The moments of ``total``'s values without ``part``'s (Chan et al. solved for a part)."""
    if part.count == 0:
        return total
    count = total.count - part.count
    if count < 0:
        raise Cancelled
    if count == 0:
        return growth.RunningMoments()
    mean = (total.mean * total.count - part.mean * part.count) / count
    delta = part.mean - mean
    squared_deviations = (
        total.squared_deviations
        - part.squared_deviations
        - delta * delta * count * part.count / total.count
    )
    return growth.RunningMoments(count=count, mean=mean, squared_deviations=squared_deviations)


def _checked(
    result: growth.RunningMoments, *scales: growth.RunningMoments
) -> growth.RunningMoments:
    scale = sum(moments.squared_deviations for moments in scales)
    if result.count > 1 and result.squared_deviations <= _CANCELLATION * scale:
        raise Cancelled
    return result


def _moments_replace(
    total: growth.GrowthMoments, old: growth.GrowthMoments, new: growth.GrowthMoments
) -> growth.GrowthMoments:
    """``total`` with the part ``old`` replaced by ``new``; raises ``Cancelled`` when the
    difference would not keep a variance's precision."""
    without = growth.GrowthMoments(
        incomplete_count=total.incomplete_count - old.incomplete_count,
        pre=_running_minus(total.pre, old.pre),
        post=_running_minus(total.post, old.post),
        gain=_running_minus(total.gain, old.gain),
        individual_gain_count=total.individual_gain_count - old.individual_gain_count,
        individual_gain_sum=total.individual_gain_sum - old.individual_gain_sum,
        at_ceiling_count=total.at_ceiling_count - old.at_ceiling_count,
        little_room_to_grow_count=total.little_room_to_grow_count - old.little_room_to_grow_count,
        target_met_count=total.target_met_count - old.target_met_count,
        band_transition_counts=tuple(
            mine - theirs
            for mine, theirs in zip(
                total.band_transition_counts, old.band_transition_counts, strict=True
            )
        ),
        skills={
            code: growth.SkillMoments(
                skill.n - old.skills.get(code, growth.SkillMoments()).n,
                skill.pre_sum - old.skills.get(code, growth.SkillMoments()).pre_sum,
                skill.post_sum - old.skills.get(code, growth.SkillMoments()).post_sum,
            )
            for code, skill in total.skills.items()
        },
    )
    if without.incomplete_count < 0 or any(skill.n < 0 for skill in without.skills.values()):
        raise Cancelled
    without = replace(
        without,
        # A remainder without students holds exactly nothing.
        individual_gain_sum=without.individual_gain_sum if without.individual_gain_count else 0.0,
        skills={code: skill for code, skill in without.skills.items() if skill.n > 0},
    )
    result = without + new
    for name in ("pre", "post", "gain"):
        _checked(getattr(result, name), getattr(total, name), getattr(old, name))
    return result


def cells_replace(
    total: Mapping[CellKey, growth.GrowthMoments],
    old: Mapping[CellKey, growth.GrowthMoments],
    new: Mapping[CellKey, growth.GrowthMoments],
    keys: Sequence[CellKey],
) -> Cells:
    """A parent's cells with one child's ``old`` cells replaced by its ``new`` ones; raises
    ``Cancelled`` when that would lose precision (the caller adds the children up instead)."""
    return {
        key: _moments_replace(total.get(key, EMPTY), old.get(key, EMPTY), new.get(key, EMPTY))
        for key in keys
    }


# --------------------------------------------------------------------------------------------
# Classroom-unit cells from stored StudentGrowth rows (Python)
# --------------------------------------------------------------------------------------------

_STUDENT_FIELDS = (
    "classroom_unit_id",
    "student_id",
    "pre_percentage",
    "post_percentage",
    "gain",
    "normalized_gain",
    "is_at_ceiling",
    "has_little_room_to_grow",
    "is_target_met",
    "pre_band",
    "post_band",
    "skill_codes",
    "pre_skills",
    "post_skills",
)


def student_growth_of_row(row: Sequence[Any]) -> growth.StudentGrowth:
    """A stored StudentGrowth row (``_STUDENT_FIELDS`` order) as ``growth.StudentGrowth``."""
    (
        _classroom_unit_id,
        _student_id,
        pre,
        post,
        gain,
        normalized_gain,
        is_at_ceiling,
        has_little_room,
        is_target_met,
        pre_band,
        post_band,
        skill_codes,
        pre_skills,
        post_skills,
    ) = row

    def by_code(values: Sequence[float | None]) -> dict[str, float]:
        return {
            code: value
            for code, value in zip(skill_codes, values, strict=True)
            if value is not None
        }

    return growth.StudentGrowth(
        pre_percentage=pre,
        post_percentage=post,
        gain=gain,
        normalized_gain=normalized_gain,
        is_at_ceiling=is_at_ceiling,
        has_little_room_to_grow=has_little_room,
        is_target_met=is_target_met,
        pre_band=growth.ProficiencyBand(pre_band) if pre_band else None,
        post_band=growth.ProficiencyBand(post_band) if post_band else None,
        trajectory=(),
        slope_per_week=None,
        pre_skill_percentages=by_code(pre_skills),
        post_skill_percentages=by_code(post_skills),
    )


def classroom_unit_cells(
    *, classroom_unit_ids: Sequence[int], group_ids: Sequence[int]
) -> dict[int, Cells]:
    """Cells of each classroom unit from its stored student rows: everyone, and per student group
    the members and the rest. Two queries, whatever the number of students."""
    # cross-tenant: the builder reads the classroom units it was given; nothing leaves them.
    rows = list(
        StudentGrowth.objects.all_schools()
        .filter(classroom_unit_id__in=classroom_unit_ids)
        .order_by("classroom_unit_id", "student_id")
        .values_list(*_STUDENT_FIELDS)
    )
    memberships: defaultdict[int, set[int]] = defaultdict(set)
    if group_ids:
        student_ids = {row[1] for row in rows}
        for student_id, group_id in Student.groups.through.objects.filter(
            student_id__in=student_ids, studentgroup_id__in=group_ids
        ).values_list("student_id", "studentgroup_id"):
            memberships[student_id].add(group_id)
    cells: dict[int, Cells] = {classroom_unit_id: {} for classroom_unit_id in classroom_unit_ids}
    for row in rows:
        moments = growth.student_moments(student_growth_of_row(row))
        unit_cells = cells[row[0]]
        in_groups = memberships.get(row[1], set())
        keys = [ALL] + [
            group_key(group_id) if group_id in in_groups else rest_key(group_id)
            for group_id in group_ids
        ]
        for key in keys:
            unit_cells[key] = unit_cells[key] + moments if key in unit_cells else moments
    return cells


# --------------------------------------------------------------------------------------------
# Suppression across the hierarchy
# --------------------------------------------------------------------------------------------


def node_counts(
    cells: Mapping[CellKey, growth.GrowthMoments], group_ids: Sequence[int], codes: Iterable[Any]
) -> dict[tuple[int, Any], Pair]:
    """The counts suppression looks at: per student group, members against the rest, overall
    and per skill (students with the skill at both pre and post)."""
    counts: dict[tuple[int, Any], Pair] = {}
    empty = growth.SkillMoments()
    codes = list(codes)
    for group_id in group_ids:
        group = cells.get(group_key(group_id), EMPTY)
        rest = cells.get(rest_key(group_id), EMPTY)
        counts[(group_id, None)] = (group.n, rest.n)
        for code in codes:
            counts[(group_id, code)] = (
                group.skills.get(code, empty).n,
                rest.skills.get(code, empty).n,
            )
    return counts


def skill_codes_of(cells: Mapping[CellKey, growth.GrowthMoments]) -> list[str]:
    """The skills some student of these cells has at both pre and post."""
    return sorted({code for moments in cells.values() for code in moments.skills})


@dataclass(frozen=True)
class Children:
    """The children of one parent in the hierarchy, by id, with their counts: for each
    (student group, skill code or None) a (members n, rest n) pair per child, in ``ids`` order."""

    ids: Sequence[int]
    pairs: Mapping[tuple[int, Any], Sequence[Pair]]


@dataclass(frozen=True)
class HierarchyFlags:
    """Which group-vs-rest pairs are hidden, for each (student group, code or None): the
    district's, its schools' (in ``Children.ids`` order) and, for the schools given, their
    classroom units'."""

    district: dict[tuple[int, Any], bool]
    schools: dict[tuple[int, Any], tuple[bool, ...]]
    leaves: dict[int, dict[tuple[int, Any], tuple[bool, ...]]]

    def as_flags(
        self, *, district_id: int, schools: Children, leaves: Mapping[int, Children]
    ) -> Flags:
        """The same, keyed by node."""
        flags: Flags = {}
        district: NodeKey = ("district", district_id)
        for (group_id, code), is_hidden in self.district.items():
            flags[(district, group_id, code)] = is_hidden
        for (group_id, code), hidden in self.schools.items():
            for school_id, is_hidden in zip(schools.ids, hidden, strict=True):
                flags[(("school", school_id), group_id, code)] = is_hidden
        for school_id, by_key in self.leaves.items():
            for (group_id, code), hidden in by_key.items():
                for leaf_id, is_hidden in zip(leaves[school_id].ids, hidden, strict=True):
                    flags[(("classroom_unit", leaf_id), group_id, code)] = is_hidden
        return flags


def hierarchy_flags(
    *,
    district_pairs: Mapping[tuple[int, Any], Pair],
    schools: Children,
    leaves: Mapping[int, Children],
    codes: Iterable[Hashable],
    group_ids: Sequence[int],
    minimum_n: int,
) -> HierarchyFlags:
    """Suppression of every group-vs-rest pair, overall and per skill, top-down.

    ``schools`` covers every school teaching the unit; ``leaves`` (school → its classroom
    units) only the schools whose classroom units are written now. ``codes`` are the skills
    the district has (a missing count is 0). A skill's cells are also hidden wherever the whole
    cell is (``also_hidden``), so the skill table is protected in its own right. Each level is
    ``growth.nested_breakdown_suppression`` under the level above.
    """
    district: dict[tuple[int, Any], bool] = {}
    school_flags: dict[tuple[int, Any], tuple[bool, ...]] = {}
    leaf_flags: dict[int, dict[tuple[int, Any], tuple[bool, ...]]] = {
        school_id: {} for school_id in leaves
    }
    school_index = {school_id: index for index, school_id in enumerate(schools.ids)}
    zero = (0, 0)
    no_schools = [zero] * len(schools.ids)
    codes = list(codes)
    for group_id in group_ids:
        for code in [None, *codes]:
            key = (group_id, code)
            group_n, rest_n = district_pairs.get(key, zero)
            is_district_hidden = growth.is_breakdown_suppressed(
                group_n=group_n, rest_n=rest_n, minimum_n=minimum_n
            ) or (code is not None and district[(group_id, None)])
            district[key] = is_district_hidden
            school_flags[key] = growth.nested_breakdown_suppression(
                is_parent_suppressed=is_district_hidden,
                children=schools.pairs.get(key, no_schools),
                minimum_n=minimum_n,
                also_hidden=None if code is None else school_flags[(group_id, None)],
            )
            for school_id, children in leaves.items():
                leaf_flags[school_id][key] = growth.nested_breakdown_suppression(
                    is_parent_suppressed=school_flags[key][school_index[school_id]],
                    children=children.pairs.get(key, [zero] * len(children.ids)),
                    minimum_n=minimum_n,
                    also_hidden=None if code is None else leaf_flags[school_id][(group_id, None)],
                )
    return HierarchyFlags(district=district, schools=school_flags, leaves=leaf_flags)


def _children(
    cells_by_id: Mapping[int, Mapping[CellKey, growth.GrowthMoments]],
    group_ids: Sequence[int],
    codes: Sequence[Any],
) -> Children:
    ids = sorted(cells_by_id)
    counts = [node_counts(cells_by_id[child], group_ids, codes) for child in ids]
    keys = [(group_id, code) for group_id in group_ids for code in [None, *codes]]
    return Children(ids=ids, pairs={key: [count[key] for count in counts] for key in keys})


# --------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------


def _summary_fields(summary: growth.GroupSummary) -> dict[str, Any]:
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


_SUPPRESSED_FIELDS: dict[str, Any] = {
    "is_suppressed": True,
    "n": None,
    "incomplete_count": None,
    "mean_pre_percentage": None,
    "mean_post_percentage": None,
    "mean_gain": None,
    "mean_gain_lower": None,
    "mean_gain_upper": None,
    "class_average_normalized_gain": None,
    "hake_band": "",
    "mean_individual_normalized_gain": None,
    "at_ceiling_count": None,
    "little_room_to_grow_count": None,
    "effect_size_d_av": None,
    "target_met_count": None,
    "share_meeting_target": None,
    "pre_gap": None,
    "post_gap": None,
    "gap_change": None,
}

_NO_MOMENTS: dict[str, Any] = {
    "moments": [],
    "moment_group_ids": [],
    "moment_skill_codes": [],
    "suppression": [],
}


def _suppressed_fields(moments: growth.GrowthMoments, minimum_n: int) -> dict[str, Any]:
    """Every statistic empty; the reason says whether this cell itself is small."""
    is_small = moments.n == 0 or moments.n < minimum_n
    reason = (
        SuppressionReason.FEWER_THAN_MINIMUM if is_small else SuppressionReason.PROTECTS_SMALL_CELL
    )
    return {
        **_SUPPRESSED_FIELDS,
        "suppression_reason": reason.value,
        "band_transitions": {},
        "skill_means": {},
        "skill_gaps": {},
    }


def node_rows(
    *,
    node: NodeKey,
    cells: Mapping[CellKey, growth.GrowthMoments],
    group_ids: Sequence[int],
    skill_codes: Sequence[str],
    flags: Mapping[tuple[NodeKey, int, Any], bool],
    minimum_n: int,
) -> list[dict[str, Any]]:
    """The summary rows of one node: everyone, then per student group the group and the rest.

    Gaps (group − rest) come from ``growth.student_group_breakdown``; what is hidden comes from
    ``flags``, which already include each pair's own small-cell rule. The row of everyone keeps
    the moments of every cell of the node (``cells_vector`` over the unit's ``skill_codes``),
    so a later roll-up reads them back instead of the students. A classroom unit without
    complete students (a unit in progress) gets no breakdown rows: it has no growth yet.
    """
    everyone = cells.get(ALL, EMPTY)
    rows = [
        {
            "student_group_id": None,
            "part": BreakdownPart.ALL.value,
            **_summary_fields(growth.moments_summary(everyone)),
            "moments": cells_vector(cells, group_ids, skill_codes),
            "moment_group_ids": list(group_ids),
            "moment_skill_codes": list(skill_codes),
            "suppression": suppression_vector(
                node=node,
                flags=flags,
                group_ids=group_ids,
                skill_codes=skill_codes,
                minimum_n=minimum_n,
            ),
        }
    ]
    if everyone.n == 0 and node[0] == "classroom_unit":
        return rows
    for group_id in group_ids:
        group_moments = cells.get(group_key(group_id), EMPTY)
        rest_moments = cells.get(rest_key(group_id), EMPTY)
        keys = {"student_group_id": group_id}
        if flags[(node, group_id, None)]:
            rows.append(
                {
                    **keys,
                    "part": GROUP,
                    **_suppressed_fields(group_moments, minimum_n),
                    **_NO_MOMENTS,
                }
            )
            rows.append(
                {
                    **keys,
                    "part": REST,
                    **_suppressed_fields(rest_moments, minimum_n),
                    **_NO_MOMENTS,
                }
            )
            continue
        group_summary = growth.moments_summary(group_moments)
        rest_summary = growth.moments_summary(rest_moments)
        breakdown = growth.student_group_breakdown(
            group=group_summary, rest=rest_summary, minimum_n=minimum_n
        )
        group_fields = _summary_fields(group_summary)
        rest_fields = _summary_fields(rest_summary)
        hidden_codes = {
            code
            for code in set(group_summary.skill_means) | set(rest_summary.skill_means)
            if flags.get((node, group_id, code), True)
        }
        for fields in (group_fields, rest_fields):
            fields["skill_means"] = {
                code: SUPPRESSED_SKILL if code in hidden_codes else means
                for code, means in sorted(fields["skill_means"].items())
            }
            for code in hidden_codes:
                fields["skill_means"][code] = SUPPRESSED_SKILL
        group_fields.update(
            pre_gap=_shown(breakdown.pre_gap),
            post_gap=_shown(breakdown.post_gap),
            gap_change=_shown(breakdown.gap_change),
            skill_gaps={
                code: SUPPRESSED_SKILL
                if code in hidden_codes or isinstance(gaps.gap_change, growth.Suppressed)
                else {"pre": gaps.pre_gap, "post": gaps.post_gap, "change": gaps.gap_change}
                for code, gaps in sorted(breakdown.skills.items())
            },
        )
        rows.append({**keys, "part": GROUP, **group_fields, **_NO_MOMENTS})
        rows.append({**keys, "part": REST, **rest_fields, **_NO_MOMENTS})
    return rows


def suppression_vector(
    *,
    node: NodeKey,
    flags: Mapping[tuple[NodeKey, int, Any], bool],
    group_ids: Sequence[int],
    skill_codes: Sequence[Any],
    minimum_n: int,
) -> list[int]:
    """How a node's rows are suppressed, as stored on its row of everyone: the minimum n, then
    per student group 1 if its pair is hidden (else 0) and the bit mask of its hidden skills
    (bit j: ``skill_codes[j]``). reports/growth_sql.py builds the same numbers."""
    vector = [minimum_n]
    for group_id in group_ids:
        mask = 0
        for index, code in enumerate(skill_codes):
            if flags.get((node, group_id, code), False):
                mask |= 1 << index
        vector += [int(flags.get((node, group_id, None), False)), mask]
    return vector


def _flags_of_vector(
    node: NodeKey, vector: Sequence[int], group_ids: Sequence[int], skill_codes: Sequence[str]
) -> Flags:
    flags: Flags = {}
    for index, group_id in enumerate(group_ids):
        is_hidden, mask = vector[1 + 2 * index], vector[2 + 2 * index]
        flags[(node, group_id, None)] = bool(is_hidden)
        for bit, code in enumerate(skill_codes):
            flags[(node, group_id, code)] = bool(mask & (1 << bit))
    return flags


def _shown(value: float | None | growth.Suppressed) -> float | None:
    return None if isinstance(value, growth.Suppressed) else value


# --------------------------------------------------------------------------------------------
# Stored rows read back
# --------------------------------------------------------------------------------------------


@dataclass
class _Stored:
    """What a node's stored row of everyone says: its cells and the suppression vector its rows
    were written with; None when it has none in the current layout (student groups or minimum
    n changed, or never built)."""

    cells: Cells | None
    suppression: list[int] | None
    skill_codes: list[str]


_STORED_FIELDS = ("moments", "moment_group_ids", "moment_skill_codes", "suppression")


def _stored(
    rows: Iterable[GrowthSummary],
    node_of: Any,
    group_ids: Sequence[int],
    minimum_n: int,
) -> dict[int, _Stored]:
    stored: dict[int, _Stored] = {}
    for row in rows:
        is_current = (
            bool(row.moments)
            and list(row.moment_group_ids) == list(group_ids)
            and len(row.suppression) == 1 + 2 * len(group_ids)
            and row.suppression[0] == minimum_n
        )
        stored[node_of(row)] = _Stored(
            cells=cells_from_vector(row.moments, group_ids, row.moment_skill_codes)
            if is_current
            else None,
            suppression=list(row.suppression) if is_current else None,
            skill_codes=list(row.moment_skill_codes),
        )
    return stored


def _stored_leaves(
    classroom_unit_ids: Collection[int], group_ids: Sequence[int], minimum_n: int
) -> dict[int, _Stored]:
    if not classroom_unit_ids:
        return {}
    # cross-tenant: the builder reads back rows of the classroom units it rolls up.
    rows = (
        ClassroomUnitGrowthSummary.objects.all_schools()
        .filter(classroom_unit_id__in=classroom_unit_ids, part=BreakdownPart.ALL)
        .only("classroom_unit_id", *_STORED_FIELDS)
    )
    return _stored(rows, lambda row: row.classroom_unit_id, group_ids, minimum_n)


def _stored_schools(
    unit_id: int,
    school_ids: Collection[int] | None,
    district_id: int,
    group_ids: Sequence[int],
    minimum_n: int,
) -> dict[int, _Stored]:
    """Stored rows of these schools × unit (every school of the district when None)."""
    # cross-tenant: the builder reads back rows of the schools it rolls up.
    rows = SchoolUnitGrowthSummary.objects.all_schools().filter(
        unit_id=unit_id, part=BreakdownPart.ALL
    )
    if school_ids is None:
        rows = rows.filter(school__district_id=district_id)
    else:
        rows = rows.filter(school_id__in=school_ids)
    return _stored(
        rows.only("school_id", *_STORED_FIELDS), lambda row: row.school_id, group_ids, minimum_n
    )


def _stored_district(
    district_id: int, unit_id: int, group_ids: Sequence[int], minimum_n: int
) -> _Stored | None:
    # cross-tenant: the builder reads back its own district's rows.
    rows = (
        DistrictUnitGrowthSummary.objects.all_schools()
        .filter(district_id=district_id, unit_id=unit_id, part=BreakdownPart.ALL)
        .only("district_id", *_STORED_FIELDS)
    )
    return _stored(rows, lambda row: row.district_id, group_ids, minimum_n).get(district_id)


def _flags_differ(
    flags: Flags,
    stored: _Stored,
    node: NodeKey,
    group_ids: Sequence[int],
    minimum_n: int,
) -> bool:
    """Whether the node's rows would be suppressed differently from how they were written."""
    return stored.suppression != suppression_vector(
        node=node,
        flags=flags,
        group_ids=group_ids,
        skill_codes=stored.skill_codes,
        minimum_n=minimum_n,
    )


# --------------------------------------------------------------------------------------------
# Publishing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishResult:
    """What one publish wrote: classroom-unit, school and district summary rows."""

    classroom_unit_rows: int
    school_rows: int
    district_rows: int

    @property
    def rows(self) -> int:
        return self.classroom_unit_rows + self.school_rows + self.district_rows


def _classroom_units_by_school(district_id: int, unit_id: int) -> dict[int, list[int]]:
    # cross-tenant: a builder serving one district; every row read here belongs to it.
    by_school: defaultdict[int, list[int]] = defaultdict(list)
    for classroom_unit_id, school_id in (
        ClassroomUnit.objects.all_schools()
        .filter(unit_id=unit_id, classroom__school__district_id=district_id)
        .values_list("pk", "classroom__school_id")
        .order_by("pk")
    ):
        by_school[school_id].append(classroom_unit_id)
    return dict(by_school)


def _write(
    *,
    district: District,
    unit_id: int,
    group_ids: Sequence[int],
    skill_codes: Sequence[str],
    built_at: datetime,
    flags: Flags,
    leaves: Mapping[int, Cells],
    schools: Mapping[int, Cells],
    district_cells: Cells | None,
) -> PublishResult:
    """Replace the rows of these classroom units, schools (× unit) and the district × unit."""
    minimum_n = district.minimum_n

    def rows_of(kind: str, node_id: int, cells: Cells) -> list[dict[str, Any]]:
        return node_rows(
            node=(kind, node_id),
            cells=cells,
            group_ids=group_ids,
            skill_codes=skill_codes,
            flags=flags,
            minimum_n=minimum_n,
        )

    leaf_rows = [
        {"classroom_unit_id": classroom_unit_id, **row, "built_at": built_at}
        for classroom_unit_id in sorted(leaves)
        for row in rows_of("classroom_unit", classroom_unit_id, leaves[classroom_unit_id])
    ]
    school_rows = [
        {"school_id": school_id, "unit_id": unit_id, **row, "built_at": built_at}
        for school_id in sorted(schools)
        for row in rows_of("school", school_id, schools[school_id])
    ]
    district_rows = (
        []
        if district_cells is None
        else [
            {"district_id": district.pk, "unit_id": unit_id, **row, "built_at": built_at}
            for row in rows_of("district", district.pk, district_cells)
        ]
    )
    # cross-tenant: replacing this district's own rows.
    if leaves:
        ClassroomUnitGrowthSummary.objects.all_schools().filter(
            classroom_unit_id__in=list(leaves)
        ).delete()
    if schools:
        SchoolUnitGrowthSummary.objects.all_schools().filter(
            unit_id=unit_id, school_id__in=list(schools)
        ).delete()
    if district_cells is not None:
        DistrictUnitGrowthSummary.objects.all_schools().filter(
            district_id=district.pk, unit_id=unit_id
        ).delete()
    rows_insert(ClassroomUnitGrowthSummary, leaf_rows)
    rows_insert(SchoolUnitGrowthSummary, school_rows)
    rows_insert(DistrictUnitGrowthSummary, district_rows)
    return PublishResult(len(leaf_rows), len(school_rows), len(district_rows))


def _all_counts(
    *,
    district_cells: Cells,
    school_cells: Mapping[int, Cells],
    leaf_cells: Mapping[int, Mapping[int, Cells]],
    group_ids: Sequence[int],
    district_id: int,
    minimum_n: int,
) -> Flags:
    """``hierarchy_flags`` of cells: every school's, and the classroom units of ``leaf_cells``'
    schools."""
    codes = skill_codes_of(district_cells)
    schools = _children(school_cells, group_ids, codes)
    leaves = {
        school_id: _children(cells, group_ids, codes) for school_id, cells in leaf_cells.items()
    }
    return hierarchy_flags(
        district_pairs=node_counts(district_cells, group_ids, codes),
        schools=schools,
        leaves=leaves,
        codes=codes,
        group_ids=group_ids,
        minimum_n=minimum_n,
    ).as_flags(district_id=district_id, schools=schools, leaves=leaves)


def district_unit_publish(
    *,
    district: District,
    unit_id: int,
    group_ids: Sequence[int],
    skill_codes: Sequence[str],
    built_at: datetime,
    leaf_cells: Mapping[int, Cells],
) -> PublishResult:
    """Write every summary row of one district × unit from its classroom units' cells
    (``leaf_cells``: classroom unit → cells; one missing has no students). The full rebuild's
    Python path (reports/growth_sql.py does the same in SQL); the caller holds the lock."""
    by_school = _classroom_units_by_school(district.pk, unit_id)
    leaves = {
        school_id: {cu: leaf_cells.get(cu, {}) for cu in classroom_unit_ids}
        for school_id, classroom_unit_ids in by_school.items()
    }
    schools = {school_id: cells_merge(cells.values()) for school_id, cells in leaves.items()}
    district_cells = cells_merge(schools.values())
    flags = _all_counts(
        district_cells=district_cells,
        school_cells=schools,
        leaf_cells=leaves,
        group_ids=group_ids,
        district_id=district.pk,
        minimum_n=district.minimum_n,
    )
    return _write(
        district=district,
        unit_id=unit_id,
        group_ids=group_ids,
        skill_codes=skill_codes,
        built_at=built_at,
        flags=flags,
        leaves={cu: cells for school in leaves.values() for cu, cells in school.items()},
        schools=schools,
        district_cells=district_cells,
    )


def classroom_unit_publish(
    *,
    district: District,
    classroom_unit: ClassroomUnit,
    school_id: int,
    group_ids: Sequence[int],
    skill_codes: Sequence[str],
    built_at: datetime,
) -> PublishResult:
    """After one classroom unit's student rows were rebuilt, write its summary rows and those
    of its school × unit and district × unit, and of anything whose suppression changed.

    Reads the class's students (its new cells) and three stored rows of everyone: the class's
    (its old cells), its school's and its district's, which both become stored − old + new.
    Suppression looks only at counts, so when the class's counts (overall and per skill, for
    each student group) are unchanged it cannot change anywhere and those three nodes are all
    that is written: the work grows with the class, not with the district. When counts
    changed, suppression is solved again from the stored counts of the school's classroom units
    and the district's schools, and every node whose suppression flips is written too.
    Anything stored in another layout (student groups or minimum n changed, nothing built yet)
    is rebuilt for the whole district × unit from student rows. A difference of moments is used
    only where it keeps its precision (``Cancelled``); otherwise that node is added up from its
    parts. The caller holds the district × unit lock.
    """
    unit_id = classroom_unit.unit_id
    minimum_n = district.minimum_n
    fresh = classroom_unit_cells(classroom_unit_ids=[classroom_unit.pk], group_ids=group_ids)[
        classroom_unit.pk
    ]
    mine = _stored_leaves([classroom_unit.pk], group_ids, minimum_n).get(classroom_unit.pk)
    school = _stored_schools(unit_id, [school_id], district.pk, group_ids, minimum_n).get(school_id)
    district_stored = _stored_district(district.pk, unit_id, group_ids, minimum_n)
    if (
        mine is None
        or mine.cells is None
        or school is None
        or school.cells is None
        or district_stored is None
        or district_stored.cells is None
    ):
        return _district_unit_from_students(
            district=district,
            unit_id=unit_id,
            group_ids=group_ids,
            skill_codes=skill_codes,
            built_at=built_at,
        )
    keys = cell_keys(group_ids)
    school_cells: Cells | None
    district_cells: Cells | None
    try:
        school_cells = cells_replace(school.cells, mine.cells, fresh, keys)
    except Cancelled:
        school_cells = None
    try:
        district_cells = cells_replace(district_stored.cells, mine.cells, fresh, keys)
    except Cancelled:
        district_cells = None

    codes = sorted(set(skill_codes_of(mine.cells)) | set(skill_codes_of(fresh)))
    counts_unchanged = node_counts(mine.cells, group_ids, codes) == node_counts(
        fresh, group_ids, codes
    )
    district_node: NodeKey = ("district", district.pk)
    school_node: NodeKey = ("school", school_id)
    mine_node: NodeKey = ("classroom_unit", classroom_unit.pk)
    if (
        counts_unchanged
        and school_cells is not None
        and district_cells is not None
        and mine.suppression is not None
        and school.suppression is not None
        and district_stored.suppression is not None
    ):
        # Nothing suppression looks at changed: every node keeps the flags it was written with.
        flags = {
            **_flags_of_vector(
                district_node, district_stored.suppression, group_ids, district_stored.skill_codes
            ),
            **_flags_of_vector(school_node, school.suppression, group_ids, school.skill_codes),
            **_flags_of_vector(mine_node, mine.suppression, group_ids, mine.skill_codes),
        }
        return _write(
            district=district,
            unit_id=unit_id,
            group_ids=group_ids,
            skill_codes=skill_codes,
            built_at=built_at,
            flags=flags,
            leaves={classroom_unit.pk: fresh},
            schools={school_id: school_cells},
            district_cells=district_cells,
        )
    try:
        return _resuppress(
            district=district,
            classroom_unit_id=classroom_unit.pk,
            school_id=school_id,
            fresh=fresh,
            school_cells=school_cells,
            district_cells=district_cells,
            group_ids=group_ids,
            skill_codes=skill_codes,
            built_at=built_at,
            unit_id=unit_id,
        )
    except _NeedsStudents:
        return _district_unit_from_students(
            district=district,
            unit_id=unit_id,
            group_ids=group_ids,
            skill_codes=skill_codes,
            built_at=built_at,
        )


def _resuppress(
    *,
    district: District,
    unit_id: int,
    classroom_unit_id: int,
    school_id: int,
    fresh: Cells,
    school_cells: Cells | None,
    district_cells: Cells | None,
    group_ids: Sequence[int],
    skill_codes: Sequence[str],
    built_at: datetime,
) -> PublishResult:
    """Solve suppression again after a class's counts changed: from the stored cells of the
    district's schools and of the class's school's classroom units (and of any school whose
    flags flip), then write every node whose flags changed."""
    minimum_n = district.minimum_n
    by_school = _classroom_units_by_school(district.pk, unit_id)
    stored_schools = _stored_schools(unit_id, None, district.pk, group_ids, minimum_n)
    stored_leaves: dict[int, _Stored] = {}

    def leaves_of(school_ids: Collection[int]) -> dict[int, dict[int, Cells]]:
        wanted = [
            cu
            for school in school_ids
            for cu in by_school.get(school, [])
            if cu != classroom_unit_id and cu not in stored_leaves
        ]
        stored_leaves.update(_stored_leaves(wanted, group_ids, minimum_n))
        result: dict[int, dict[int, Cells]] = {}
        for school in school_ids:
            for cu in by_school.get(school, []):
                entry = stored_leaves.get(cu)
                if cu == classroom_unit_id:
                    cells = fresh
                elif entry is None or entry.cells is None:
                    raise _NeedsStudents
                else:
                    cells = entry.cells
                result.setdefault(school, {})[cu] = cells
        return result

    leaf_cells = leaves_of([school_id])
    if school_cells is None:
        school_cells = cells_merge(leaf_cells.get(school_id, {}).values())
    all_schools: dict[int, Cells] = {}
    for other in by_school:
        if other == school_id:
            all_schools[other] = school_cells
            continue
        entry = stored_schools.get(other)
        if entry is None or entry.cells is None:
            raise _NeedsStudents
        all_schools[other] = entry.cells
    if district_cells is None:
        district_cells = cells_merge(all_schools.values())

    def solve() -> Flags:
        return _all_counts(
            district_cells=district_cells,
            school_cells=all_schools,
            leaf_cells=leaf_cells,
            group_ids=group_ids,
            district_id=district.pk,
            minimum_n=minimum_n,
        )

    def differs(node: NodeKey, entry: _Stored | None) -> bool:
        return entry is None or _flags_differ(flags, entry, node, group_ids, minimum_n)

    flags = solve()
    flipped = [
        other
        for other in by_school
        if other != school_id and differs(("school", other), stored_schools.get(other))
    ]
    if flipped:
        leaf_cells.update(leaves_of(flipped))
        flags = solve()
    leaves = {
        cu: cells
        for school_leaves in leaf_cells.values()
        for cu, cells in school_leaves.items()
        if cu == classroom_unit_id or differs(("classroom_unit", cu), stored_leaves.get(cu))
    }
    return _write(
        district=district,
        unit_id=unit_id,
        group_ids=group_ids,
        skill_codes=skill_codes,
        built_at=built_at,
        flags=flags,
        leaves=leaves,
        schools={school: all_schools[school] for school in [school_id, *flipped]},
        district_cells=district_cells,
    )


class _NeedsStudents(Exception):
    """A stored node has no moments in the current layout: rebuild from student rows."""


def _district_unit_from_students(
    *,
    district: District,
    unit_id: int,
    group_ids: Sequence[int],
    skill_codes: Sequence[str],
    built_at: datetime,
) -> PublishResult:
    by_school = _classroom_units_by_school(district.pk, unit_id)
    classroom_unit_ids = [cu for cus in by_school.values() for cu in cus]
    return district_unit_publish(
        district=district,
        unit_id=unit_id,
        group_ids=group_ids,
        skill_codes=skill_codes,
        built_at=built_at,
        leaf_cells=classroom_unit_cells(classroom_unit_ids=classroom_unit_ids, group_ids=group_ids),
    )


# --------------------------------------------------------------------------------------------
# Writing many rows
# --------------------------------------------------------------------------------------------


def rows_insert(model: type[models.Model], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows given as {attname: value}; by COPY on PostgreSQL."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create([model(**row) for row in rows], batch_size=2000)
        return
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    json_columns = {field.attname for field in fields if isinstance(field, models.JSONField)}
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        copy_sql = f"COPY {table} ({columns}) FROM STDIN"  # noqa: S608 - names from the model
        with cursor.cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(
                    [
                        json.dumps(row[field.attname])
                        if field.attname in json_columns
                        else row.get(field.attname)
                        for field in fields
                    ]
                )

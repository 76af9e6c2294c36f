"""Group summaries from stored student rows: cells of moments, suppression across levels, rows.

The statistics and suppression rules are in reports/growth.py (PRODUCT.md, "Growth, defined
once"); this module only arranges them over the hierarchy district × unit → school × unit →
classroom unit, and writes the summary rows. reports/services.py calls it inside its
transactions and locks.

A *cell* is one group of students at one node: everyone (``ALL``), the students in a student
group, or the rest. Cells hold ``growth.GrowthMoments``, which add up, so a school's cells are
the sum of its classroom units' and the district's the sum of its schools'. A node's row of
everyone stores the moments of all its cells (every school; a classroom unit once a score change
has touched its school), so after one class's scores change only that classroom unit is computed
from its students (here in Python); the other classroom units and schools are read back. The
full rebuild computes every classroom unit's cells in one SQL statement instead
(reports/growth_sql.py). Student-group memberships that change without a score change reach the
summaries with the next full rebuild.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
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
Flags = dict[tuple[NodeKey, int, str | None], bool]


def group_key(group_id: int) -> CellKey:
    return (group_id, GROUP)


def rest_key(group_id: int) -> CellKey:
    return (group_id, REST)


def cells_merge(many: Iterable[Mapping[CellKey, growth.GrowthMoments]]) -> Cells:
    """Add cells key by key."""
    total: Cells = {}
    for cells in many:
        for key, moments in cells.items():
            total[key] = total[key] + moments if key in total else moments
    return total


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
    "pre_skill_percentages",
    "post_skill_percentages",
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
        pre_skills,
        post_skills,
    ) = row
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
        pre_skill_percentages=pre_skills or {},
        post_skill_percentages=post_skills or {},
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


def _pair(
    cells: Mapping[CellKey, growth.GrowthMoments], group_id: int, code: str | None
) -> tuple[int, int]:
    group = cells.get(group_key(group_id), EMPTY)
    rest = cells.get(rest_key(group_id), EMPTY)
    if code is None:
        return group.n, rest.n
    empty = growth.SkillMoments()
    return group.skills.get(code, empty).n, rest.skills.get(code, empty).n


def _skill_codes(cells: Mapping[CellKey, growth.GrowthMoments]) -> list[str]:
    return sorted({code for moments in cells.values() for code in moments.skills})


def hierarchy_flags(
    *,
    district_id: int,
    district_cells: Cells,
    school_cells: Mapping[int, Cells],
    leaf_cells: Mapping[int, Mapping[int, Cells]],
    group_ids: Sequence[int],
    minimum_n: int,
) -> Flags:
    """Suppression of every group-vs-rest pair, overall and per skill, top-down.

    ``school_cells`` covers every school teaching the unit; ``leaf_cells`` (school → classroom
    unit → cells) only the schools whose classroom units are written now. A skill's cells are
    also hidden wherever the whole cell is (``also_hidden``), so the skill table is protected in
    its own right.
    """
    flags: Flags = {}
    district: NodeKey = ("district", district_id)
    school_ids = sorted(school_cells)
    codes = _skill_codes(district_cells)
    for group_id in group_ids:
        for code in [None, *codes]:
            group_n, rest_n = _pair(district_cells, group_id, code)
            is_district_hidden = growth.is_breakdown_suppressed(
                group_n=group_n, rest_n=rest_n, minimum_n=minimum_n
            ) or (code is not None and flags[(district, group_id, None)])
            flags[(district, group_id, code)] = is_district_hidden
            school_flags = growth.nested_breakdown_suppression(
                is_parent_suppressed=is_district_hidden,
                children=[
                    _pair(school_cells[school_id], group_id, code) for school_id in school_ids
                ],
                minimum_n=minimum_n,
                also_hidden=None
                if code is None
                else [flags[(("school", school_id), group_id, None)] for school_id in school_ids],
            )
            for school_id, is_hidden in zip(school_ids, school_flags, strict=True):
                flags[(("school", school_id), group_id, code)] = is_hidden
            for school_id, leaves in leaf_cells.items():
                leaf_ids = sorted(leaves)
                leaf_flags = growth.nested_breakdown_suppression(
                    is_parent_suppressed=flags[(("school", school_id), group_id, code)],
                    children=[_pair(leaves[leaf_id], group_id, code) for leaf_id in leaf_ids],
                    minimum_n=minimum_n,
                    also_hidden=None
                    if code is None
                    else [
                        flags[(("classroom_unit", leaf_id), group_id, None)] for leaf_id in leaf_ids
                    ],
                )
                for leaf_id, is_hidden in zip(leaf_ids, leaf_flags, strict=True):
                    flags[(("classroom_unit", leaf_id), group_id, code)] = is_hidden
    return flags


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
    flags: Flags,
    minimum_n: int,
    keeps_moments: bool = True,
) -> list[dict[str, Any]]:
    """The summary rows of one node: everyone, then per student group the group and the rest.

    Gaps (group − rest) come from ``growth.student_group_breakdown``; what is hidden comes from
    ``flags``, which already include each pair's own small-cell rule. With ``keeps_moments``
    the row of everyone keeps the moments of every cell of the node (``cells_json``), so a
    later roll-up reads them back instead of the students. A classroom unit without complete
    students (a unit in progress) gets no breakdown rows: it has no growth yet.
    """
    everyone = cells.get(ALL, EMPTY)
    rows = [
        {
            "student_group_id": None,
            "part": BreakdownPart.ALL.value,
            **_summary_fields(growth.moments_summary(everyone)),
            "moments": cells_json(cells) if keeps_moments else {},
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
                    "moments": {},
                }
            )
            rows.append(
                {
                    **keys,
                    "part": REST,
                    **_suppressed_fields(rest_moments, minimum_n),
                    "moments": {},
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
        rows.append({**keys, "part": GROUP, **group_fields, "moments": {}})
        rows.append({**keys, "part": REST, **rest_fields, "moments": {}})
    return rows


def _shown(value: float | None | growth.Suppressed) -> float | None:
    return None if isinstance(value, growth.Suppressed) else value


def cells_json(cells: Mapping[CellKey, growth.GrowthMoments]) -> dict[str, Any]:
    """Every cell of a node as JSON: "all", "<group id>:group", "<group id>:rest"."""
    return {
        ("all" if group_id is None else f"{group_id}:{part}"): moments.to_json()
        for (group_id, part), moments in cells.items()
    }


def cells_from_json(data: Mapping[str, Any]) -> Cells:
    cells: Cells = {}
    for name, moments in data.items():
        if name == "all":
            cells[ALL] = growth.GrowthMoments.from_json(moments)
        else:
            group_id, part = name.split(":")
            cells[(int(group_id), part)] = growth.GrowthMoments.from_json(moments)
    return cells


@dataclass
class _Stored:
    """What stored summary rows say about their nodes: cells (from the row of everyone) and the
    suppression flags each was written with."""

    cells: dict[int, Cells]
    flags: Flags


def _stored(rows: Iterable[GrowthSummary], node_of: Any, kind: str) -> _Stored:
    stored = _Stored(cells={}, flags={})
    for row in rows:
        node_id = node_of(row)
        if row.part == BreakdownPart.ALL:
            if row.moments:
                stored.cells[node_id] = cells_from_json(row.moments)
            continue
        if row.part != GROUP or row.student_group_id is None:
            continue
        node: NodeKey = (kind, node_id)
        stored.flags[(node, row.student_group_id, None)] = row.is_suppressed
        if not row.is_suppressed:  # a hidden cell hides its skills anyway
            for code, means in row.skill_means.items():
                stored.flags[(node, row.student_group_id, code)] = means == SUPPRESSED_SKILL
    return stored


_STORED_FIELDS = ("student_group_id", "part", "is_suppressed", "skill_means", "moments")


def _stored_leaves(classroom_unit_ids: Collection[int]) -> _Stored:
    if not classroom_unit_ids:
        return _Stored(cells={}, flags={})
    # cross-tenant: the builder reads back rows of the classroom units it rolls up.
    rows = (
        ClassroomUnitGrowthSummary.objects.all_schools()
        .filter(classroom_unit_id__in=classroom_unit_ids)
        .only("classroom_unit_id", *_STORED_FIELDS)
    )
    return _stored(rows, lambda row: row.classroom_unit_id, "classroom_unit")


def _stored_schools(unit_id: int, school_ids: Collection[int]) -> _Stored:
    if not school_ids:
        return _Stored(cells={}, flags={})
    # cross-tenant: the builder reads back rows of the schools it rolls up.
    rows = (
        SchoolUnitGrowthSummary.objects.all_schools()
        .filter(unit_id=unit_id, school_id__in=school_ids)
        .only("school_id", *_STORED_FIELDS)
    )
    return _stored(rows, lambda row: row.school_id, "school")


def _flags_differ(flags: Flags, stored: Flags, node: NodeKey) -> bool:
    return any(flags.get(key) != value for key, value in stored.items() if key[0] == node)


# --------------------------------------------------------------------------------------------
# Publishing one district × unit
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishResult:
    """What one publish wrote: classroom-unit, school and district summary rows."""

    classroom_unit_rows: int
    school_rows: int
    district_rows: int


def district_unit_publish(
    *,
    district: District,
    unit_id: int,
    group_ids: Sequence[int],
    built_at: datetime,
    classroom_unit_ids: Collection[int] = (),
    leaf_cells: Mapping[int, Mapping[int, Cells]] | None = None,
) -> PublishResult:
    """Write the district × unit roll-up and whatever beneath it changed.

    The full rebuild gives ``leaf_cells`` (school → classroom unit → cells) for every school and
    everything is written. After a score change, ``classroom_unit_ids`` are rebuilt from their
    student rows; every other classroom unit and school is read back from its stored moments,
    and only rows whose numbers or suppression changed are written again (the changed
    classroom units, their schools, schools or classroom units whose suppression flipped). So
    the work grows with the class, plus one stored row per classroom unit of the school and per
    school: never with the district's students. Anything without stored moments yet (after a
    full rebuild, which does not store classroom units' moments) is built from its students
    once and stored. The caller holds the district × unit lock.
    """
    minimum_n = district.minimum_n
    # cross-tenant: a builder serving one district; every row read here belongs to it.
    classroom_units_by_school: defaultdict[int, list[int]] = defaultdict(list)
    for classroom_unit_id, school_id in (
        ClassroomUnit.objects.all_schools()
        .filter(unit_id=unit_id, classroom__school__district_id=district.pk)
        .values_list("pk", "classroom__school_id")
    ):
        classroom_units_by_school[school_id].append(classroom_unit_id)
    school_of = {
        cu: school_id for school_id, cus in classroom_units_by_school.items() for cu in cus
    }

    leaves: dict[int, dict[int, Cells]] = {}
    stored_leaf_flags: Flags = {}
    leaf_rewrite: set[int] = set()
    if leaf_cells is not None:
        for school_id, cells in leaf_cells.items():
            if school_id in classroom_units_by_school:
                leaves[school_id] = {
                    cu: cells.get(cu, {}) for cu in classroom_units_by_school[school_id]
                }
        leaf_rewrite = {cu for cells in leaves.values() for cu in cells}

    def add_leaves(school_ids: Collection[int], fresh_ids: Collection[int] = ()) -> None:
        """Put these schools' classroom units in ``leaves``: ``fresh_ids`` from their students,
        the others from stored moments (or their students when none are stored)."""
        wanted = [cu for school_id in school_ids for cu in classroom_units_by_school[school_id]]
        stored = _stored_leaves([cu for cu in wanted if cu not in fresh_ids])
        stored_leaf_flags.update(stored.flags)
        rebuilt = [cu for cu in wanted if cu in fresh_ids or cu not in stored.cells]
        fresh = classroom_unit_cells(classroom_unit_ids=rebuilt, group_ids=group_ids)
        leaf_rewrite.update(rebuilt)
        for cu in wanted:
            cells = fresh[cu] if cu in fresh else stored.cells[cu]
            leaves.setdefault(school_of[cu], {})[cu] = cells

    changed = {cu for cu in classroom_unit_ids if cu in school_of}
    add_leaves({school_of[cu] for cu in changed}, changed)

    others = [school_id for school_id in classroom_units_by_school if school_id not in leaves]
    stored_schools = _stored_schools(unit_id, others)
    add_leaves([school_id for school_id in others if school_id not in stored_schools.cells])

    school_cells: dict[int, Cells] = {
        school_id: cells_merge(leaves[school_id].values())
        if school_id in leaves
        else stored_schools.cells[school_id]
        for school_id in classroom_units_by_school
    }
    district_cells = cells_merge(school_cells.values())

    def flags_now() -> Flags:
        return hierarchy_flags(
            district_id=district.pk,
            district_cells=district_cells,
            school_cells=school_cells,
            leaf_cells=leaves,
            group_ids=group_ids,
            minimum_n=minimum_n,
        )

    flags = flags_now()
    flipped = [
        school_id
        for school_id in classroom_units_by_school
        if school_id not in leaves
        and _flags_differ(flags, stored_schools.flags, ("school", school_id))
    ]
    if flipped:
        add_leaves(flipped)
        flags = flags_now()
    leaf_rewrite.update(
        cu
        for cells in leaves.values()
        for cu in cells
        if _flags_differ(flags, stored_leaf_flags, ("classroom_unit", cu))
    )

    leaf_rows = [
        {"classroom_unit_id": classroom_unit_id, **row, "built_at": built_at}
        for school_leaves in leaves.values()
        for classroom_unit_id, cells in sorted(school_leaves.items())
        if classroom_unit_id in leaf_rewrite
        for row in node_rows(
            node=("classroom_unit", classroom_unit_id),
            cells=cells,
            group_ids=group_ids,
            flags=flags,
            minimum_n=minimum_n,
            # The full rebuild leaves them out (it would double its own time); the first score
            # change in a school stores them for the classroom units it reads from students.
            keeps_moments=leaf_cells is None,
        )
    ]
    school_rows = [
        {"school_id": school_id, "unit_id": unit_id, **row, "built_at": built_at}
        for school_id in sorted(leaves)
        for row in node_rows(
            node=("school", school_id),
            cells=school_cells[school_id],
            group_ids=group_ids,
            flags=flags,
            minimum_n=minimum_n,
        )
    ]
    district_rows = [
        {"district_id": district.pk, "unit_id": unit_id, **row, "built_at": built_at}
        for row in node_rows(
            node=("district", district.pk),
            cells=district_cells,
            group_ids=group_ids,
            flags=flags,
            minimum_n=minimum_n,
            keeps_moments=False,  # nothing rolls a district up further
        )
    ]
    # cross-tenant: replacing this district's own rows.
    ClassroomUnitGrowthSummary.objects.all_schools().filter(
        classroom_unit_id__in=leaf_rewrite
    ).delete()
    kept_schools = [school_id for school_id in classroom_units_by_school if school_id not in leaves]
    SchoolUnitGrowthSummary.objects.all_schools().filter(
        unit_id=unit_id, school__district_id=district.pk
    ).exclude(school_id__in=kept_schools).delete()
    DistrictUnitGrowthSummary.objects.all_schools().filter(
        district_id=district.pk, unit_id=unit_id
    ).delete()
    rows_insert(ClassroomUnitGrowthSummary, leaf_rows)
    rows_insert(SchoolUnitGrowthSummary, school_rows)
    rows_insert(DistrictUnitGrowthSummary, district_rows)
    return PublishResult(len(leaf_rows), len(school_rows), len(district_rows))


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

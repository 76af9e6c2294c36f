"""The full rebuild of one district, set-based in PostgreSQL: student rows, cells, roll-ups and
summary rows, written only where they changed.

This mirrors reports/growth.py, the one definition of growth, for speed only: PERFORMANCE.md
measures one SQL pass ~3× faster than streaming rows to Python, and bench/growth_rebuild.py
times this module beside one aggregate query over the same scores. Each rule names the function
it mirrors; tests/reports/test_growth_summaries.py rebuilds the same scores both ways
(``test_sql_and_python_full_rebuilds_agree*``) and requires the same rows and summaries.

Steps, all inside the caller's transaction (temporary tables are dropped at commit):

1. **Student rows** (``growth.student_growth``) in one statement, which PostgreSQL may run in
   parallel: each score is read once and added, per student, to the sum of its checkpoint or
   of its pre or post skill, in exact hundredths of a point (``growth.assessment_percentage``,
   ``growth.skill_percentage``); then gain, g (NULL at pre = 100), target, bands and "little
   room to grow" with the same 1e-9 tolerance (``growth.BOUNDARY_TOLERANCE``), and the
   least-squares slope over the checkpoints that have a percentage
   (``growth.least_squares_slope``). Every enrolled student gets a row, and so does anyone with
   a score. Per-skill percentages and the trajectory are arrays laid out by the unit
   (``UnitLayout``): building a JSON number costs more than computing it.
2. **Written**: on a district's first build all of them, in key order; afterwards one pass
   pairs them with the stored rows and only rows that changed, are new or are gone are written.
3. **Cells** (``growth.GrowthMoments``): per classroom unit and combination of student groups,
   the students' moments in one pass; merged into every cell (everyone, each group's members
   and the rest) of every classroom unit, school × unit and district × unit as
   ``growth.RunningMoments`` merges (Chan et al.).
4. **Suppression** by ``rollups.hierarchy_flags`` over the cells' counts (Python: it is the one
   definition of complementary suppression, and takes a fraction of a second), and the t
   quantiles of the 95% intervals (``growth.student_t_quantile``, kept in reports_tquantile).
5. **Summary rows** (``growth.moments_summary``, ``growth.student_group_breakdown``,
   ``rollups.node_rows``) of the nodes whose moments or suppression differ from what their
   stored row of everyone says, then written where they changed.

Floats are summed in a fixed order (students by key), so a rebuild over unchanged scores
computes bit-identical values and writes nothing but the build times.
"""

from __future__ import annotations

import hashlib
import inspect
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection

from reports import growth, rollups

# Compiling these statements just in time costs more than it saves; sorts fit in memory. The
# commit need not wait for its WAL to reach disk: every row here is derived, so a crash just
# before that loses one rebuild, which the next one (or the periodic one) redoes.
_SETTINGS = (
    "SET LOCAL jit = off",
    "SET LOCAL work_mem = '256MB'",
    "SET LOCAL synchronous_commit = off",
)
# The statements here join thousands of rows to thousands, over temporary tables without
# statistics: a nested loop is never right, and a misestimate must not pick one. The student
# rows' diff keeps them: after a small change it looks a few stored rows up by their key.
_BULK = "SET LOCAL enable_nestloop = off"
_WRITES = "SET LOCAL enable_nestloop = on"

_TEMPORARY_TABLES = (
    "growth_target",
    "growth_unit",
    "growth_student",
    "growth_partial",
    "growth_cell",
    "growth_flag",
    "growth_quantile",
    "growth_node",
    "growth_summary_row",
)
# Dropped explicitly as well as at commit: a test, or a caller rebuilding several districts in
# one transaction, builds them again in the same transaction.
_DROP = f"DROP TABLE IF EXISTS {', '.join(_TEMPORARY_TABLES)}"

# growth.ProficiencyBand in order, and growth.BAND_PAIRS as (pre index × 3 + post index).
_BANDS = [band.value for band in growth.ProficiencyBand]
_PAIRS = [
    (_BANDS.index(before.value), _BANDS.index(after.value)) for before, after in growth.BAND_PAIRS
]
assert _PAIRS == [(before, after) for before in range(3) for after in range(3)]  # noqa: S101

_KIND_RANK = {"pre": 0, "formative": 1, "post": 2}  # within a week: pre first, post last


# --------------------------------------------------------------------------------------------
# How a unit's student rows are laid out (shared with the Python builders)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """One skill on one assessment of a unit, where its points go in a student row."""

    assessment_skill_id: int
    position: int  # the assessment's place in the trajectory
    kind: str
    skill_index: int | None  # place in ``UnitLayout.skill_codes`` (pre and post only)
    max_points: Decimal


@dataclass(frozen=True)
class UnitLayout:
    """A unit's assessments in trajectory order (``growth.checkpoint_trajectory``: by week, pre
    first and post last within a week, then by title) and the codes of the skills its pre and
    post measure (sorted), which order a student row's arrays."""

    unit_id: int
    assessment_ids: tuple[int, ...]
    kinds: tuple[str, ...]
    weeks: tuple[int, ...]
    skill_codes: tuple[str, ...]
    measures: tuple[Measure, ...]

    def position_of(self, kind: str) -> int | None:
        return next((index for index, item in enumerate(self.kinds) if item == kind), None)


def unit_layouts(
    rows: Sequence[tuple[int, int, str, int, str]], measures: Sequence[Any]
) -> dict[int, UnitLayout]:
    """Layouts from (unit, assessment, kind, week, title) rows and (assessment skill,
    assessment, skill code, max points) rows."""
    assessments: defaultdict[int, list[tuple[int, str, int, str]]] = defaultdict(list)
    unit_of: dict[int, int] = {}
    for unit_id, assessment_id, kind, week, title in rows:
        assessments[unit_id].append((assessment_id, kind, week, title))
        unit_of[assessment_id] = unit_id
    by_unit: defaultdict[int, list[tuple[int, int, str, Decimal]]] = defaultdict(list)
    for assessment_skill_id, assessment_id, code, max_points in measures:
        by_unit[unit_of[assessment_id]].append(
            (assessment_skill_id, assessment_id, code, max_points)
        )
    layouts = {}
    for unit_id, items in assessments.items():
        ordered = sorted(items, key=lambda item: (item[2], _KIND_RANK[item[1]], item[3], item[0]))
        position = {assessment_id: index for index, (assessment_id, *_) in enumerate(ordered)}
        kind_of = {assessment_id: kind for assessment_id, kind, _, _ in ordered}
        codes = tuple(
            sorted(
                {
                    code
                    for _, assessment_id, code, _ in by_unit[unit_id]
                    if kind_of[assessment_id] != "formative"
                }
            )
        )
        layouts[unit_id] = UnitLayout(
            unit_id=unit_id,
            assessment_ids=tuple(item[0] for item in ordered),
            kinds=tuple(item[1] for item in ordered),
            weeks=tuple(item[2] for item in ordered),
            skill_codes=codes,
            measures=tuple(
                Measure(
                    assessment_skill_id=assessment_skill_id,
                    position=position[assessment_id],
                    kind=kind_of[assessment_id],
                    skill_index=None
                    if kind_of[assessment_id] == "formative"
                    else codes.index(code),
                    max_points=Decimal(max_points),
                )
                for assessment_skill_id, assessment_id, code, max_points in sorted(by_unit[unit_id])
            ),
        )
    return layouts


# --------------------------------------------------------------------------------------------
# 1. Student rows
# --------------------------------------------------------------------------------------------

_TARGET = """
    CREATE TEMPORARY TABLE growth_target ON COMMIT DROP AS
    SELECT cu.id AS classroom_unit_id, cu.classroom_id, cu.unit_id, c.school_id, cu.start_date,
           cu.start_date + (u.weeks * 7 - 1) AS ends_on
    FROM units_classroomunit cu
    JOIN units_unit u ON u.id = cu.unit_id
    JOIN classrooms_classroom c ON c.id = cu.classroom_id
    JOIN classrooms_school s ON s.id = c.school_id
    WHERE s.district_id = %(district_id)s
"""


def _unit_table_sql(positions: int) -> str:
    columns = "".join(f", week_{k} int, source_{k} int" for k in range(positions))
    return f"""
        CREATE TEMPORARY TABLE growth_unit (
            unit_id int8 PRIMARY KEY, skill_count int, weeks smallint[], codes varchar(40)[]
            {columns}
        ) ON COMMIT DROP
    """


@dataclass(frozen=True)
class _Shape:
    """The widest unit of a district, and whether every unit has that shape with its
    assessments in the product's order (pre, checkpoints, post), so positions need no mapping."""

    positions: int
    formatives: int
    skills: int
    is_canonical: bool

    def source(self, layout: UnitLayout, position: int) -> int | None:
        """Where a position's percentage comes from: 0 the pre, 1 the post, 2 + f checkpoint f."""
        if position >= len(layout.kinds):
            return None
        kind = layout.kinds[position]
        if kind == "pre":
            return 0
        if kind == "post":
            return 1
        return 2 + layout.kinds[:position].count("formative")

    def slot(self, layout: UnitLayout, measure: Measure) -> int:
        """Which sum a measure's points go to: checkpoint f, else its pre or post skill."""
        if measure.kind == "formative":
            return layout.kinds[: measure.position].count("formative")
        assert measure.skill_index is not None  # noqa: S101 - pre and post measures have one
        offset = self.formatives + (self.skills if measure.kind == "post" else 0)
        return offset + measure.skill_index


def _shape(layouts: Sequence[UnitLayout]) -> _Shape:
    positions = max((len(layout.kinds) for layout in layouts), default=0)
    formatives = max((layout.kinds.count("formative") for layout in layouts), default=0)
    skills = max((len(layout.skill_codes) for layout in layouts), default=0)
    canonical = ("pre", *("formative",) * formatives, "post")
    return _Shape(
        positions=positions,
        formatives=formatives,
        skills=skills,
        is_canonical=all(
            layout.kinds == canonical and len(layout.skill_codes) == skills for layout in layouts
        ),
    )


# Earned and max hundredths of one assessment (or skill) share one float sum: × shift and +,
# exact while the sum stays below 2⁵³, i.e. while both fit in 26 bits (``district_rebuild``
# checks); otherwise they are summed apart.
_PACKING_LIMIT = 1 << 26


def _students_sql(shape: _Shape, *, packed: bool) -> str:
    """Statement 1: every student row of the district's classroom units.

    Each scored skill's points go to one sum per student: its checkpoint's, or its pre or post
    skill's (the pre and post totals are the sums of their skills). With ``packed`` one exact
    float sum carries both totals: points in hundredths × %(shift)s + max points in hundredths.
    Absent and exempt skills add nothing; enrolled students without scores add an empty row,
    so they get a row too.
    """
    formatives, skills = shape.formatives, shape.skills
    slots = formatives + 2 * skills
    # Each slot's sum, written into the percentage expressions (the aggregate computes each
    # distinct sum once, however often it is named).
    sums = (
        {f"slot_{slot}": f"sum(packed) FILTER (WHERE slot = {slot})" for slot in range(slots)}
        | {f"slot_{slot}_earned": f"sum(h) FILTER (WHERE slot = {slot})" for slot in range(slots)}
        | {
            f"slot_{slot}_max": f"sum(max_h) FILTER (WHERE slot = {slot} AND h IS NOT NULL)"
            for slot in range(slots)
        }
    )

    def percentage(slot_range: range) -> str:
        """100 × earned / max over these slots, exactly as ``growth.assessment_percentage``
        rounds it (None when nothing was scored)."""
        if not slot_range:
            return "NULL::float8"
        if packed:
            total = (
                f"slot_{slot_range[0]}"
                if len(slot_range) == 1
                else "nullif(" + " + ".join(f"coalesce(slot_{i}, 0)" for i in slot_range) + ", 0)"
            )
            earned = f"floor({total} / %(shift)s)"
            return f"100.0::float8 * {earned} / ({total} - {earned} * %(shift)s)"
        if len(slot_range) == 1:
            return f"100.0::float8 * slot_{slot_range[0]}_earned / slot_{slot_range[0]}_max"
        earned = " + ".join(f"coalesce(slot_{i}_earned, 0)" for i in slot_range)
        maximum = " + ".join(f"coalesce(slot_{i}_max, 0)" for i in slot_range)
        return f"100.0::float8 * ({earned}) / nullif({maximum}, 0)"

    pre_slots = range(formatives, formatives + skills)
    post_slots = range(formatives + skills, slots)

    def expand(expression: str) -> str:
        return re.sub(r"\bslot_\d+(?:_earned|_max)?\b", lambda m: sums[m.group(0)], expression)

    percentages = [
        f"{percentage(pre_slots)} AS pre",
        f"{percentage(post_slots)} AS post",
        *(f"{percentage(range(f, f + 1))} AS formative_{f}" for f in range(formatives)),
        *(f"{percentage(range(slot, slot + 1))} AS pre_{j}" for j, slot in enumerate(pre_slots)),
        *(f"{percentage(range(slot, slot + 1))} AS post_{j}" for j, slot in enumerate(post_slots)),
    ]
    percentages = [expand(column) for column in percentages]
    sources = ["pre", "post", *(f"formative_{f}" for f in range(formatives))]
    if shape.is_canonical:
        checkpoints = ["pre", *(f"formative_{f}" for f in range(formatives)), "post"]
    else:
        checkpoints = [
            f"CASE source_{k} "
            + " ".join(f"WHEN {index} THEN {source}" for index, source in enumerate(sources))
            + " END"
            for k in range(shape.positions)
        ]
    positions = range(len(checkpoints))

    def over_points(expression: str) -> str:
        """The sum of ``expression`` ({c}: the percentage, {w}: the week) over the
        checkpoints that have a percentage."""
        return " + ".join(
            f"CASE WHEN {checkpoints[k]} IS NOT NULL"
            f" THEN {expression.format(c=checkpoints[k], w=f'week_{k}')} ELSE 0 END"
            for k in positions
        )

    point_count = " + ".join(f"({checkpoints[k]} IS NOT NULL)::int" for k in positions)
    # growth.least_squares_slope: Σ (w − w̄)(p − p̄) / Σ (w − w̄)², over the points that exist.
    covariation = over_points("({w} - mean_week) * ({c} - mean_percentage)")
    spread = over_points("({w} - mean_week) * ({w} - mean_week)")
    checkpoint_array = "ARRAY[" + ", ".join(checkpoints) + "]::float8[]"
    pre_array = "ARRAY[" + ", ".join(f"pre_{j}" for j in range(skills)) + "]::float8[]"
    post_array = "ARRAY[" + ", ".join(f"post_{j}" for j in range(skills)) + "]::float8[]"
    if not shape.is_canonical:
        checkpoint_array = f"({checkpoint_array})[1:coalesce(array_length(weeks, 1), 0)]"
        pre_array, post_array = (
            f"({pre_array})[1:skill_count]",
            f"({post_array})[1:skill_count]",
        )
    if not skills:
        pre_array = post_array = "'{}'::float8[]"
    unit_columns = "".join(f", u.week_{k}, u.source_{k}" for k in range(shape.positions))
    complete = "(pre IS NOT NULL AND post IS NOT NULL)"
    g = "CASE WHEN pre < 100 THEN (post - pre) / (100 - pre) END"
    band = (
        "CASE WHEN {value} IS NULL THEN NULL"
        " WHEN {value} >= %(proficiency_cut)s - %(tolerance)s THEN 2"
        " WHEN {value} >= %(developing_cut)s - %(tolerance)s THEN 1 ELSE 0 END"
    )
    points = (
        "(sc.points * 100)::int4 * %(shift)s + m.max_h AS packed"
        if packed
        else "(sc.points * 100)::int4 AS h, m.max_h"
    )
    no_points = "NULL::float8" if packed else "NULL::int4, NULL::float8"
    return f"""
        WITH percentages AS (
            SELECT classroom_unit_id, student_id, {", ".join(percentages)}
            FROM (
                SELECT sc.classroom_unit_id, sc.student_id, m.slot, {points}
                FROM assessments_score sc
                JOIN unnest(%(measure_id)s::int8[], %(measure_slot)s::int4[],
                            %(measure_max)s::float8[]) AS m(id, slot, max_h)
                  ON m.id = sc.assessment_skill_id
                UNION ALL
                SELECT cu.id, e.student_id, -1, {no_points}
                FROM units_classroomunit cu
                JOIN units_unit u ON u.id = cu.unit_id
                JOIN classrooms_classroom c ON c.id = cu.classroom_id
                JOIN classrooms_school school ON school.id = c.school_id
                JOIN classrooms_enrollment e ON e.classroom_id = cu.classroom_id
                WHERE school.district_id = %(district_id)s
                  AND e.start_date <= cu.start_date + (u.weeks * 7 - 1)
                  AND (e.end_date IS NULL OR e.end_date >= cu.start_date)
            ) points
            GROUP BY classroom_unit_id, student_id
        ),
        placed AS (
            SELECT p.*, t.unit_id, t.school_id, u.skill_count, u.weeks, u.codes{unit_columns},
                   ({point_count}) AS point_count,
                   ({over_points("{w}")})::float8 / nullif({point_count}, 0) AS mean_week,
                   ({over_points("{c}")}) / nullif({point_count}, 0) AS mean_percentage
            FROM percentages p
            JOIN growth_target t USING (classroom_unit_id)
            JOIN growth_unit u ON u.unit_id = t.unit_id
            OFFSET 0
        )
        SELECT classroom_unit_id, student_id, unit_id, school_id,
               pre AS pre_percentage,
               post AS post_percentage,
               post - pre AS gain,
               {g} AS normalized_gain,
               coalesce(pre = 100, false) AS is_at_ceiling,
               coalesce(pre >= %(little_room)s - %(tolerance)s, false) AS has_little_room_to_grow,
               CASE WHEN point_count >= 2 AND ({spread}) > 0
                    THEN ({covariation}) / ({spread}) END AS slope_per_week,
               CASE WHEN {complete}
                    THEN post >= %(proficiency_cut)s - %(tolerance)s
                         OR coalesce({g} >= %(growth_target)s - %(tolerance)s, false)
               END AS is_target_met,
               {complete} AS is_complete,
               coalesce((%(bands)s::text[])[{band.format(value="pre")} + 1], '') AS pre_band,
               coalesce((%(bands)s::text[])[{band.format(value="post")} + 1], '') AS post_band,
               CASE WHEN {complete}
                    THEN {band.format(value="pre")} * 3 + {band.format(value="post")}
               END AS transition,
               {pre_array} AS pre_skills,
               {post_array} AS post_skills,
               {checkpoint_array} AS checkpoint_percentages
        FROM placed
    """  # noqa: S608 - only generated names and numbered placeholders are put in


# The stored columns of a student row besides its keys and built_at.
STUDENT_COLUMNS = (
    "pre_percentage",
    "post_percentage",
    "gain",
    "normalized_gain",
    "is_at_ceiling",
    "has_little_room_to_grow",
    "slope_per_week",
    "is_target_met",
    "is_complete",
    "pre_band",
    "post_band",
    "skill_codes",
    "pre_skills",
    "post_skills",
    "checkpoint_weeks",
    "checkpoint_percentages",
)


def _changed(old: str, new: str, columns: Sequence[str]) -> str:
    return (
        f"({', '.join(f'{old}.{column}' for column in columns)}) IS DISTINCT FROM "
        f"({', '.join(f'{new}.{column}' for column in columns)})"
    )


# A student row's values in growth_student (the unit's codes and weeks come from growth_unit).
_STUDENT_VALUES = {column: f"g.{column}" for column in STUDENT_COLUMNS} | {
    "skill_codes": "u.codes",
    "checkpoint_weeks": "u.weeks",
}
_NEW_STUDENTS = f"""
    SELECT g.classroom_unit_id, g.student_id,
           {", ".join(f"{value} AS {column}" for column, value in _STUDENT_VALUES.items())}
    FROM growth_student g
    JOIN growth_unit u ON u.unit_id = g.unit_id
"""  # noqa: S608 - column names are constants of this module


# The first build of a district writes every row, in key order; nothing needs comparing.
_STUDENTS_FIRST = f"""
    INSERT INTO reports_studentgrowth (classroom_unit_id, student_id, {", ".join(STUDENT_COLUMNS)},
                                       built_at)
    SELECT *, %(built_at)s FROM ({_NEW_STUDENTS}) new
    ORDER BY classroom_unit_id, student_id
"""  # noqa: S608 - column names are constants of this module

# Later builds: one pass pairs the new rows with the stored ones, then only the rows that
# changed, are new or are gone (students who left the classroom unit) are written.
_STUDENTS_DIFF = f"""
    WITH new AS ({_NEW_STUDENTS}),
    old AS (
        SELECT sg.classroom_unit_id, sg.student_id, {", ".join(f"sg.{c}" for c in STUDENT_COLUMNS)}
        FROM reports_studentgrowth sg
        WHERE sg.classroom_unit_id IN (SELECT classroom_unit_id FROM growth_target)
    ),
    diff AS MATERIALIZED (
        SELECT new.*, old.classroom_unit_id AS old_classroom_unit_id,
               old.student_id AS old_student_id
        FROM new
        FULL JOIN old ON old.classroom_unit_id = new.classroom_unit_id
                     AND old.student_id = new.student_id
        WHERE old.classroom_unit_id IS NULL
           OR new.classroom_unit_id IS NULL
           OR {_changed("old", "new", STUDENT_COLUMNS)}
    ),
    updated AS (
        UPDATE reports_studentgrowth sg
        SET ({", ".join(STUDENT_COLUMNS)}, built_at) =
            ({", ".join(f"d.{column}" for column in STUDENT_COLUMNS)}, %(built_at)s)
        FROM diff d
        WHERE d.classroom_unit_id IS NOT NULL AND d.old_classroom_unit_id IS NOT NULL
          AND sg.classroom_unit_id = d.classroom_unit_id AND sg.student_id = d.student_id
        RETURNING 1
    ),
    inserted AS (
        INSERT INTO reports_studentgrowth (classroom_unit_id, student_id,
                                           {", ".join(STUDENT_COLUMNS)}, built_at)
        SELECT d.classroom_unit_id, d.student_id,
               {", ".join(f"d.{column}" for column in STUDENT_COLUMNS)}, %(built_at)s
        FROM diff d
        WHERE d.old_classroom_unit_id IS NULL
        RETURNING 1
    ),
    deleted AS (
        DELETE FROM reports_studentgrowth sg
        USING diff d
        WHERE d.classroom_unit_id IS NULL
          AND sg.classroom_unit_id = d.old_classroom_unit_id
          AND sg.student_id = d.old_student_id
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM updated) + (SELECT count(*) FROM inserted)
           + (SELECT count(*) FROM deleted)
"""  # noqa: S608 - column names are constants of this module

_HAS_STUDENT_ROWS = """
    SELECT EXISTS (
        SELECT 1 FROM reports_studentgrowth
        WHERE classroom_unit_id IN (SELECT classroom_unit_id FROM growth_target)
    )
"""


# --------------------------------------------------------------------------------------------
# 3. Cells
# --------------------------------------------------------------------------------------------

_RUNNING = ("pre", "post", "gain")


def _cell_columns(skills: int) -> list[str]:
    """The numbers of one cell, in the order of ``rollups.CELL_FIELDS``, then per skill
    (n, pre sum, post sum): the stored moments have the same layout."""
    return [
        "incomplete",
        "n",
        *(f"{name}_{part}" for name in _RUNNING for part in ("mean", "m2")),
        "g_count",
        "g_sum",
        "at_ceiling",
        "little_room",
        "target_met",
        *(f"t_{k}" for k in range(len(_PAIRS))),
        *(f"skill_{part}_{j}" for j in range(skills) for part in ("n", "pre", "post")),
    ]


def _float_columns(skills: int) -> set[str]:
    return (
        {f"{name}_{part}" for name in _RUNNING for part in ("mean", "m2")}
        | {"g_sum"}
        | {f"skill_{part}_{j}" for j in range(skills) for part in ("pre", "post")}
    )


def _partials_sql(skills: int) -> str:
    """``growth.student_moments`` added up per classroom unit and combination of student
    groups (a bit mask), over the students in a fixed order so float sums come out the same on
    every rebuild. Incomplete students are only counted."""
    complete = "is_complete"
    columns = {
        "incomplete": "count(*) FILTER (WHERE NOT is_complete)",
        "n": f"count(*) FILTER (WHERE {complete})",
        "g_count": f"count(normalized_gain) FILTER (WHERE {complete})",
        "g_sum": f"coalesce(sum(normalized_gain) FILTER (WHERE {complete}), 0)",
        "at_ceiling": f"count(*) FILTER (WHERE {complete} AND is_at_ceiling)",
        "little_room": f"count(*) FILTER (WHERE {complete} AND has_little_room_to_grow)",
        "target_met": f"count(*) FILTER (WHERE {complete} AND is_target_met)",
    }
    for name, column in zip(_RUNNING, ("pre_percentage", "post_percentage", "gain"), strict=True):
        columns[f"{name}_mean"] = f"coalesce(avg({column}) FILTER (WHERE {complete}), 0)"
        columns[f"{name}_m2"] = (
            f"coalesce(var_samp({column}) FILTER (WHERE {complete})"
            f" * (count(*) FILTER (WHERE {complete}) - 1), 0)"
        )
    for k in range(len(_PAIRS)):
        columns[f"t_{k}"] = f"count(*) FILTER (WHERE transition = {k})"
    for j in range(skills):
        both = f"{complete} AND pre_{j} IS NOT NULL AND post_{j} IS NOT NULL"
        columns[f"skill_n_{j}"] = f"count(*) FILTER (WHERE {both})"
        columns[f"skill_pre_{j}"] = f"coalesce(sum(pre_{j}) FILTER (WHERE {both}), 0)"
        columns[f"skill_post_{j}"] = f"coalesce(sum(post_{j}) FILTER (WHERE {both}), 0)"
    floats = _float_columns(skills)
    aggregates = ", ".join(
        f"{columns[name]} AS {name}" if name in floats else f"({columns[name]})::int4 AS {name}"
        for name in _cell_columns(skills)
    )
    needed = [
        f"s.{column}"
        for column in (
            "classroom_unit_id",
            "student_id",
            "is_complete",
            "pre_percentage",
            "post_percentage",
            "gain",
            "normalized_gain",
            "is_at_ceiling",
            "has_little_room_to_grow",
            "is_target_met",
            "transition",
        )
    ] + [
        f"s.{side}_skills[{j + 1}] AS {side}_{j}" for j in range(skills) for side in ("pre", "post")
    ]
    return f"""
        CREATE TEMPORARY TABLE growth_partial ON COMMIT DROP AS
        SELECT classroom_unit_id, group_mask, {aggregates}
        FROM (
            SELECT {", ".join(needed)}, coalesce(m.group_mask, 0) AS group_mask
            FROM growth_student s
            LEFT JOIN (
                SELECT sg.student_id, bit_or(1::int8 << (g.position - 1)::int) AS group_mask
                FROM classrooms_student_groups sg
                JOIN unnest(%(group_ids)s::int8[]) WITH ORDINALITY AS g(id, position)
                  ON g.id = sg.studentgroup_id
                GROUP BY sg.student_id
            ) m USING (student_id)
            -- Whatever plan groups them, each partial adds its students in this order, so the
            -- floats come out the same on every rebuild.
            ORDER BY s.classroom_unit_id, group_mask, s.student_id
        ) students
        GROUP BY classroom_unit_id, group_mask
    """  # noqa: S608 - generated names only


def _merge_sql(*, level: int, source: str, keys: Sequence[str], part: str, skills: int) -> str:
    """Cells of ``level`` merged from the parts in ``source`` (grouped by ``keys``, the last
    being the cell; ``part`` orders the parts of a cell): counts and sums add up; means and M2
    merge as ``growth.RunningMoments`` does (Chan et al.: M2 adds each part's M2 and its n ×
    squared distance to the mean). The merged mean comes from a window over the same rows, so
    one sort serves both, and it fixes the order floats are added in, whatever the plan."""
    floats = _float_columns(skills)
    key_list = ", ".join(keys)
    merged_means = ", ".join(
        f"sum(n * {name}_mean) OVER parts / nullif(sum(n) OVER parts, 0) AS merged_{name}_mean"
        for name in _RUNNING
    )
    values = []
    for name in _cell_columns(skills):
        if name.endswith("_m2"):
            running = name.removesuffix("_m2")
            distance = f"({running}_mean - merged_{running}_mean)"
            values.append(f"coalesce(sum({name} + n * {distance} * {distance}), 0)")
        elif name.endswith("_mean"):
            values.append(f"coalesce(sum(n * {name}) / nullif(sum(n), 0), 0)")
        elif name in floats:
            values.append(f"sum({name})")
        else:
            values.append(f"sum({name})::int4")
    node, unit, school, group_keys = {
        0: ("classroom_unit_id", "min(unit_id)", "min(school_id)", "classroom_unit_id, cell"),
        1: ("school_id", "unit_id", "school_id", "unit_id, school_id, cell"),
        2: ("%(district_id)s::int8", "unit_id", "NULL::int8", "unit_id, cell"),
    }[level]
    return f"""
        INSERT INTO growth_cell
        SELECT {level}, {node}, {unit}, {school}, cell, {", ".join(values)}
        FROM (
            SELECT source.*, {merged_means}
            FROM ({source}) source
            WINDOW parts AS (
                PARTITION BY {key_list} ORDER BY {part}
                ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
            )
        ) parts
        GROUP BY {group_keys}
    """  # noqa: S608 - generated names only


def _cells_sql(group_count: int, skills: int) -> list[str]:
    """growth_cell: every cell of every classroom unit (level 0), school × unit (1) and
    district × unit (2). Cell 0 is everyone; for student group i, cell 2i + 1 its members and
    2i + 2 the rest. A cell without students holds zeros (``rollups.EMPTY``)."""
    columns = ", ".join(
        f"{name} float8" if name in _float_columns(skills) else f"{name} int4"
        for name in _cell_columns(skills)
    )
    cell_of_part = (
        "CASE WHEN i = 0 THEN 0 WHEN (group_mask >> (i - 1)::int) & 1 = 1 THEN 2 * i - 1"
        " ELSE 2 * i END"
    )
    zeros = ", ".join("0" for _ in _cell_columns(skills))
    return [
        f"""
        CREATE TEMPORARY TABLE growth_cell (
            level int, node_id int8, unit_id int8, school_id int8, cell int, {columns}
        ) ON COMMIT DROP
        """,
        _merge_sql(
            level=0,
            source=f"""
                SELECT p.*, t.unit_id, t.school_id, {cell_of_part} AS cell
                FROM growth_partial p
                JOIN growth_target t USING (classroom_unit_id)
                CROSS JOIN generate_series(0, {group_count}) AS parts(i)
            """,  # noqa: S608 - generated names only
            keys=("classroom_unit_id", "cell"),
            part="group_mask",
            skills=skills,
        ),
        f"""
        INSERT INTO growth_cell
        SELECT 0, t.classroom_unit_id, t.unit_id, t.school_id, c.cell, {zeros}
        FROM growth_target t
        CROSS JOIN generate_series(0, {2 * group_count}) AS c(cell)
        WHERE NOT EXISTS (
            SELECT 1 FROM growth_cell x
            WHERE x.level = 0 AND x.node_id = t.classroom_unit_id AND x.cell = c.cell
        )
        """,  # noqa: S608 - generated names only
        _merge_sql(
            level=1,
            source="SELECT * FROM growth_cell WHERE level = 0",
            keys=("unit_id", "school_id", "cell"),
            part="node_id",
            skills=skills,
        ),
        _merge_sql(
            level=2,
            source="SELECT * FROM growth_cell WHERE level = 1",
            keys=("unit_id", "cell"),
            part="node_id",
            skills=skills,
        ),
    ]


# --------------------------------------------------------------------------------------------
# 4. Suppression and quantiles (Python, over counts)
# --------------------------------------------------------------------------------------------


def _pairs_sql(skills: int) -> str:
    """Per unit, level, parent school (classroom units) and student group: the children in id
    order with their (members n, rest n), overall and per skill, as
    ``growth.nested_breakdown_suppression`` takes them."""
    per_skill = "".join(
        f", max(skill_n_{j}) FILTER (WHERE mod(cell, 2) = 1) AS group_n_{j}"
        f", max(skill_n_{j}) FILTER (WHERE mod(cell, 2) = 0) AS rest_n_{j}"
        for j in range(skills)
    )
    arrays = "".join(
        f", array_agg(group_n_{j} ORDER BY node_id), array_agg(rest_n_{j} ORDER BY node_id)"
        for j in range(skills)
    )
    return f"""
        WITH pairs AS (
            SELECT level, node_id, unit_id, school_id, (cell - 1) / 2 AS group_index,
                   max(n) FILTER (WHERE mod(cell, 2) = 1) AS group_n,
                   max(n) FILTER (WHERE mod(cell, 2) = 0) AS rest_n{per_skill}
            FROM growth_cell
            WHERE cell > 0
            GROUP BY level, node_id, unit_id, school_id, (cell - 1) / 2
        )
        SELECT unit_id, level, CASE WHEN level = 0 THEN school_id ELSE 0 END AS parent,
               group_index, array_agg(node_id ORDER BY node_id),
               array_agg(group_n ORDER BY node_id), array_agg(rest_n ORDER BY node_id){arrays}
        FROM pairs
        GROUP BY unit_id, level, CASE WHEN level = 0 THEN school_id ELSE 0 END, group_index
    """  # noqa: S608 - generated names only


@dataclass
class _UnitCounts:
    district: dict[tuple[int, Any], rollups.Pair]
    school_ids: list[int]
    school_pairs: dict[tuple[int, Any], list[rollups.Pair]]
    leaves: dict[int, tuple[list[int], dict[tuple[int, Any], list[rollups.Pair]]]]


def _suppression(
    cursor: Any,
    *,
    district_id: int,
    group_ids: Sequence[int],
    layouts: Mapping[int, UnitLayout],
    skills: int,
    minimum_n: int,
) -> list[str]:
    """Lines of growth_flag for COPY, by ``rollups.hierarchy_flags`` over the cells' counts:
    level, node, unit, group index, whole pair hidden, hidden skills as a bit mask over the
    unit's skill indexes."""
    if not group_ids:
        return []
    cursor.execute(_pairs_sql(skills))
    units: dict[int, _UnitCounts] = {}
    for unit_id, level, parent, index, ids, group_n, rest_n, *per_skill in cursor:
        unit = units.setdefault(unit_id, _UnitCounts({}, [], {}, {}))
        group_id = group_ids[index]
        pairs: dict[tuple[int, Any], list[rollups.Pair]] = {
            (group_id, None): list(zip(group_n, rest_n, strict=True))
        }
        for j in range(skills):
            pairs[(group_id, j)] = list(zip(per_skill[2 * j], per_skill[2 * j + 1], strict=True))
        if level == 2:
            unit.district.update({key: values[0] for key, values in pairs.items()})
        elif level == 1:
            unit.school_ids = ids
            unit.school_pairs.update(pairs)
        else:
            unit.leaves.setdefault(parent, (ids, {}))[1].update(pairs)
    cursor.execute(
        "SELECT unit_id"  # noqa: S608 - generated names only
        + "".join(f", skill_n_{j}" for j in range(skills))
        + " FROM growth_cell WHERE level = 2 AND cell = 0"
    )
    codes = {
        unit_id: [j for j, n in enumerate(per_skill) if n and j < len(layouts[unit_id].skill_codes)]
        for unit_id, *per_skill in cursor.fetchall()
    }
    lines: list[str] = []
    for unit_id, unit in units.items():
        unit_codes = codes.get(unit_id, [])
        leaves = {
            school_id: rollups.Children(ids=ids, pairs=pairs)
            for school_id, (ids, pairs) in unit.leaves.items()
        }
        flags = rollups.hierarchy_flags(
            district_pairs=unit.district,
            schools=rollups.Children(ids=unit.school_ids, pairs=unit.school_pairs),
            leaves=leaves,
            codes=unit_codes,
            group_ids=group_ids,
            minimum_n=minimum_n,
        )
        for index, group_id in enumerate(group_ids):
            levels: list[tuple[int, Sequence[int], Mapping[tuple[int, Any], Sequence[bool]]]] = [
                (2, [district_id], {key: (flag,) for key, flag in flags.district.items()}),
                (1, unit.school_ids, flags.schools),
                *((0, leaves[school].ids, flags.leaves[school]) for school in leaves),
            ]
            for level, ids, hidden in levels:
                masks = [0] * len(ids)
                for j in unit_codes:
                    for position, is_hidden in enumerate(hidden[(group_id, j)]):
                        if is_hidden:
                            masks[position] |= 1 << j
                lines.extend(
                    f"{level}\t{node_id}\t{unit_id}\t{index}\t{'t' if is_hidden else 'f'}\t{mask}"
                    for node_id, is_hidden, mask in zip(
                        ids, hidden[(group_id, None)], masks, strict=True
                    )
                )
    return lines


def _copy(cursor: Any, table: str, columns: str, rows: Iterable[Sequence[Any]]) -> None:
    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


# --------------------------------------------------------------------------------------------
# 5. Summary rows
# --------------------------------------------------------------------------------------------

# The stored columns of a summary row besides its node keys.
SUMMARY_COLUMNS = (
    "student_group_id",
    "part",
    "is_suppressed",
    "suppression_reason",
    "n",
    "incomplete_count",
    "mean_pre_percentage",
    "mean_post_percentage",
    "mean_gain",
    "mean_gain_lower",
    "mean_gain_upper",
    "class_average_normalized_gain",
    "hake_band",
    "mean_individual_normalized_gain",
    "at_ceiling_count",
    "little_room_to_grow_count",
    "effect_size_d_av",
    "target_met_count",
    "share_meeting_target",
    "band_transitions",
    "skill_means",
    "pre_gap",
    "post_gap",
    "gap_change",
    "skill_gaps",
    "moments",
    "moment_group_ids",
    "moment_skill_codes",
    "suppression",
)
_VALUE_COLUMNS = SUMMARY_COLUMNS[2:]
# What growth_summary_row holds of them: the builders' own columns (moments, suppression) are
# taken from growth_node when the rows are written, so the wide arrays are not copied twice.
_INTERNAL_COLUMNS = ("moments", "moment_group_ids", "moment_skill_codes", "suppression")
_SHOWN_COLUMNS = tuple(column for column in _VALUE_COLUMNS if column not in _INTERNAL_COLUMNS)


def _summary_values(rows: str) -> str:
    """``rows`` (summary rows as built) with the builders' own columns of everyone's rows."""
    return f"""(
        SELECT r.*,
               coalesce(node.moments, '{{}}') AS moments,
               CASE WHEN r.part = 'all' THEN %(group_ids)s::int8[] ELSE '{{}}' END
                   AS moment_group_ids,
               CASE WHEN r.part = 'all' THEN u.codes::varchar[] ELSE '{{}}' END
                   AS moment_skill_codes,
               coalesce(node.suppression, '{{}}') AS suppression
        FROM {rows} r
        JOIN growth_unit u ON u.unit_id = r.unit_id
        LEFT JOIN growth_node node ON r.part = 'all' AND node.level = r.level
                                  AND node.node_id = r.node_id AND node.unit_id = r.unit_id
    )"""  # noqa: S608 - generated names only


_SUMMARY_VALUES = _summary_values("growth_summary_row")
# Stored summary rows of the district, gone before a first build writes its own.
_SCOPE_DELETE = "DELETE FROM {table} WHERE {scope}"

# growth_node: one row per node with what its rows are written from (its cells' moments, its
# suppression vector) and whether that differs from what its stored row of everyone says.
_NODE_SQL = """
    CREATE TEMPORARY TABLE growth_node ON COMMIT DROP AS
    WITH vectors AS (
        SELECT c.level, c.node_id, c.unit_id,
               array_agg((ARRAY[{vector}]::float8[])[1:{fixed} + 3 * u.skill_count]
                         ORDER BY c.cell) AS moments
        FROM growth_cell c
        JOIN growth_unit u USING (unit_id)
        GROUP BY c.level, c.node_id, c.unit_id
    ),
    suppression AS (
        SELECT f.level, f.node_id, f.unit_id,
               ARRAY[%(minimum_n)s::int8]
               || array_agg(x.value ORDER BY f.group_index, x.position) AS suppression
        FROM growth_flag f
        CROSS JOIN LATERAL (VALUES (0, f.is_hidden::int::int8), (1, f.hidden_skills))
             AS x(position, value)
        GROUP BY f.level, f.node_id, f.unit_id
    ),
    nodes AS (
        SELECT v.level, v.node_id, v.unit_id, v.moments,
               coalesce(s.suppression, ARRAY[%(minimum_n)s::int8]) AS suppression, u.codes
        FROM vectors v
        JOIN growth_unit u USING (unit_id)
        LEFT JOIN suppression s USING (level, node_id, unit_id)
    ),
    stored AS (
        SELECT 0 AS level, classroom_unit_id AS node_id, NULL::int8 AS unit_id, moments,
               moment_group_ids, moment_skill_codes, suppression
        FROM reports_classroomunitgrowthsummary
        WHERE part = 'all'
          AND classroom_unit_id IN (SELECT classroom_unit_id FROM growth_target)
        UNION ALL
        SELECT 1, school_id, unit_id, moments, moment_group_ids, moment_skill_codes, suppression
        FROM reports_schoolunitgrowthsummary
        WHERE part = 'all'
          AND school_id IN (SELECT school_id FROM growth_target)
        UNION ALL
        SELECT 2, district_id, unit_id, moments, moment_group_ids, moment_skill_codes, suppression
        FROM reports_districtunitgrowthsummary
        WHERE part = 'all' AND district_id = %(district_id)s
    )
    SELECT n.level, n.node_id, n.unit_id, n.moments, n.suppression,
           n.moments[1][2]::int4 AS everyone_n,
           s.moments IS NULL
           OR (s.moments, s.moment_group_ids, s.moment_skill_codes, s.suppression)
              IS DISTINCT FROM
              (n.moments, %(group_ids)s::int8[], n.codes::varchar[], n.suppression)
           AS is_changed
    FROM nodes n
    LEFT JOIN stored s ON s.level = n.level AND s.node_id = n.node_id
                      AND (s.unit_id = n.unit_id OR n.level = 0)
"""


def _node_sql(skills: int) -> str:
    return _NODE_SQL.format(
        vector=", ".join(f"c.{name}" for name in _cell_columns(skills)),
        fixed=len(_cell_columns(0)),
    )


def _statistics_sql(level: int | None) -> str:
    """Each cell of a changed node (of ``level``, or of every level) with the statistics of
    ``growth.moments_summary``, its node's complete students and its pair's flags."""

    def sd(name: str) -> str:
        value = f"sqrt(greatest(c.{name}_m2, 0) / (c.n - 1))"
        return (
            f"CASE WHEN c.n >= 2 THEN CASE WHEN {value} < {growth.SD_ZERO_TOLERANCE!r} THEN 0"
            f" ELSE {value} END END"
        )

    return f"""
        SELECT c.*,
               CASE WHEN c.n > 0 THEN c.pre_mean END AS mean_pre,
               CASE WHEN c.n > 0 THEN c.post_mean END AS mean_post,
               CASE WHEN c.n > 0 THEN c.gain_mean END AS mean_gain,
               {sd("pre")} AS sd_pre, {sd("post")} AS sd_post, {sd("gain")} AS sd_gain,
               CASE WHEN c.n > 0 AND c.pre_mean <> 100
                    THEN (c.post_mean - c.pre_mean) / (100 - c.pre_mean) END AS class_gain,
               CASE WHEN c.g_count > 0 THEN c.g_sum / c.g_count END AS mean_individual_gain,
               CASE WHEN c.n > 0 THEN c.target_met::float8 / c.n END AS share_meeting_target,
               u.codes, q.t, f.is_hidden, f.hidden_skills, node.everyone_n
        FROM growth_cell c
        JOIN (
            SELECT level, node_id, unit_id, everyone_n FROM growth_node WHERE is_changed
        ) node ON node.level = c.level AND node.node_id = c.node_id AND node.unit_id = c.unit_id
        JOIN growth_unit u ON u.unit_id = c.unit_id
        LEFT JOIN growth_quantile q ON q.n = c.n
        LEFT JOIN growth_flag f ON f.level = c.level AND f.node_id = c.node_id
                               AND f.unit_id = c.unit_id AND f.group_index = (c.cell - 1) / 2
        {"" if level is None else f"WHERE c.level = {level}"}
    """  # noqa: S608 - generated names only


_SUPPRESSED_SKILL = "'{\"suppressed\": true}'::jsonb"


def _skill_object(
    skills: int, codes: str, value: Callable[[int], str], include: Callable[[int], str]
) -> str:
    """A JSON object keyed by the unit's skill codes (the array ``codes``): ``value(j)`` for
    each skill j where ``include(j)`` holds."""
    if not skills:
        return "'{}'::jsonb"
    pairs = ", ".join(
        f"coalesce({codes}[{j + 1}], ''), CASE WHEN {include(j)} THEN {value(j)} END"
        for j in range(skills)
    )
    # A unit with fewer skills than another has no code there: its key is '' and is dropped.
    return f"(jsonb_strip_nulls(jsonb_build_object({pairs})) - '')"


def _skill_means(cell: Callable[[str], str], j: int) -> str:
    """{"n", "pre", "post"} of skill j in a cell (``growth.SkillMeans``)."""
    n = cell(f"skill_n_{j}")
    return (
        f"jsonb_build_object('n', {n}, 'pre', {cell(f'skill_pre_{j}')} / {n},"
        f" 'post', {cell(f'skill_post_{j}')} / {n})"
    )


def _own(name: str) -> str:
    return f"c.{name}"


def _partner(name: str) -> str:
    return f"o.{name}"


def _cell_statistics() -> list[str]:
    """The statistics of cell ``c`` that every shown summary row carries, in ``_SHOWN_COLUMNS``
    order: n and incomplete through the proficiency transitions."""
    return [
        "c.n",
        "c.incomplete",
        "c.mean_pre",
        "c.mean_post",
        "c.mean_gain",
        _interval("-"),
        _interval("+"),
        "c.class_gain",
        _hake("c.class_gain"),
        "c.mean_individual_gain",
        "c.at_ceiling",
        "c.little_room",
        _effect_size(),
        "c.target_met",
        "c.share_meeting_target",
        _transitions(),
    ]


def _shown_columns(skills: int, *, is_group: bool) -> list[str]:
    """The values (``_VALUE_COLUMNS``) of the shown breakdown row of cell ``c``
    (``rollups.node_rows``): its statistics, skill means (a skill hidden by the flags shows as
    suppressed) and, on the group's row, the gaps to the rest
    (``growth.student_group_breakdown``)."""
    group, rest = (_own, _partner) if is_group else (_partner, _own)

    def hidden(j: int) -> str:
        return f"(c.hidden_skills & {1 << j}::int8) <> 0"

    def either(j: int) -> str:
        return f"({group(f'skill_n_{j}')} > 0 OR {rest(f'skill_n_{j}')} > 0)"

    skill_means = _skill_object(
        skills,
        "c.codes",
        lambda j: (
            f"CASE WHEN {hidden(j)} THEN {_SUPPRESSED_SKILL} ELSE {_skill_means(_own, j)} END"
        ),
        either,
    )
    if is_group:
        pre_gap = f"({group('mean_pre')} - {rest('mean_pre')})"
        post_gap = f"({group('mean_post')} - {rest('mean_post')})"
        gaps = [pre_gap, post_gap, f"{post_gap} - {pre_gap}"]

        def skill_gap(j: int) -> str:
            def mean(cell: Callable[[str], str], which: str) -> str:
                return f"{cell(f'skill_{which}_{j}')} / {cell(f'skill_n_{j}')}"

            pre = f"({mean(group, 'pre')} - {mean(rest, 'pre')})"
            post = f"({mean(group, 'post')} - {mean(rest, 'post')})"
            return (
                f"CASE WHEN {hidden(j)} OR {group(f'skill_n_{j}')} < %(minimum_n)s"
                f" OR {rest(f'skill_n_{j}')} < %(minimum_n)s THEN {_SUPPRESSED_SKILL}"
                f" ELSE jsonb_build_object('pre', {pre}, 'post', {post},"
                f" 'change', {post} - {pre}) END"
            )

        skill_gaps = _skill_object(skills, "c.codes", skill_gap, either)
    else:
        gaps, skill_gaps = ["NULL::float8"] * 3, "'{}'::jsonb"
    return ["false", "''", *_cell_statistics(), skill_means, *gaps, skill_gaps]


def _hidden_columns() -> list[str]:
    """A suppressed row: every statistic empty, and why (``rollups._suppressed_fields``)."""
    reason = (
        "CASE WHEN c.n = 0 OR c.n < %(minimum_n)s THEN 'fewer_than_minimum'"
        " ELSE 'protects_small_cell' END"
    )
    return [
        "true",
        reason,
        *["NULL"] * 8,
        "''",
        *["NULL"] * 6,
        "'{}'::jsonb",
        "'{}'::jsonb",
        *["NULL"] * 3,
        "'{}'::jsonb",
    ]


def _transitions() -> str:
    """{"pre band>post band": count} over every pair of bands (``growth.BAND_PAIRS``)."""
    pairs = ", ".join(
        f"'{_BANDS[before]}>{_BANDS[after]}', c.t_{index}"
        for index, (before, after) in enumerate(_PAIRS)
    )
    return f"jsonb_build_object({pairs})"


def _interval(sign: str) -> str:
    """A bound of the 95% interval of the mean gain: mean ± t · (SD / √n)."""
    return f"c.mean_gain {sign} c.t * (c.sd_gain / sqrt(c.n))"


def _hake(value: str) -> str:
    """``growth.hake_band`` of ⟨g⟩ (empty when there is none)."""
    tolerance = growth.BOUNDARY_TOLERANCE
    return (
        f"CASE WHEN {value} IS NULL THEN ''"
        f" WHEN {value} >= {growth.HAKE_HIGH_FROM!r} - {tolerance!r} THEN 'high'"
        f" WHEN {value} >= {growth.HAKE_MEDIUM_FROM!r} - {tolerance!r} THEN 'medium'"
        " ELSE 'low' END"
    )


def _effect_size() -> str:
    """d_av as ``growth.moments_summary`` takes it from the moments."""
    return (
        "CASE WHEN c.sd_pre IS NOT NULL AND c.sd_post IS NOT NULL AND c.sd_pre + c.sd_post > 0"
        " THEN (c.post_mean - c.pre_mean) / ((c.sd_pre + c.sd_post) / 2) END"
    )


def _summary_rows_sql(group_count: int, skills: int, level: int | None = None) -> str:
    """The summary rows of every changed node (``rollups.node_rows``): everyone's, with the
    moments of all the node's cells and its suppression vector, then per student group its
    members' and the rest's (each read beside the other cell of its pair, ``o``), hidden where
    the flags say so. A classroom unit without complete students gets no breakdown rows."""
    everyone = [
        "false",
        "''",
        *_cell_statistics(),
        _skill_object(
            skills, "c.codes", lambda j: _skill_means(_own, j), lambda j: f"c.skill_n_{j} > 0"
        ),
        "NULL::float8",
        "NULL::float8",
        "NULL::float8",
        "'{}'::jsonb",
    ]
    named = ", ".join(
        f"{value} AS {name}" for value, name in zip(everyone, _SHOWN_COLUMNS, strict=True)
    )
    selects = [
        f"""
        SELECT c.level, c.node_id, c.unit_id, NULL::int8 AS student_group_id, 'all' AS part,
               {named}
        FROM cells c
        WHERE c.cell = 0
        """  # noqa: S608 - generated names only
    ]
    for part, parity, offset in (("group", 1, 1), ("rest", 0, -1)):
        columns = ", ".join(
            f"CASE WHEN c.is_hidden THEN {when_hidden} ELSE {when_shown} END"
            if when_hidden != when_shown
            else when_shown
            for when_hidden, when_shown in zip(
                _hidden_columns(), _shown_columns(skills, is_group=part == "group"), strict=True
            )
        )
        selects.append(
            f"""
            SELECT c.level, c.node_id, c.unit_id,
                   (%(group_ids)s::int8[])[(c.cell + 1) / 2], '{part}', {columns}
            FROM cells c
            JOIN cells o ON o.level = c.level AND o.node_id = c.node_id
                        AND o.unit_id = c.unit_id AND o.cell = c.cell + {offset}
            WHERE c.cell > 0 AND mod(c.cell, 2) = {parity} AND (c.level > 0 OR c.everyone_n > 0)
            """  # noqa: S608 - generated names only
        )
    if not group_count:
        selects = selects[:1]
    return f"""
        WITH cells AS MATERIALIZED ({_statistics_sql(level)})
        {"UNION ALL".join(selects)}
    """  # noqa: S608 - generated names only


@dataclass(frozen=True)
class _SummaryTable:
    table: str
    level: int
    keys: tuple[str, ...]  # stored key columns
    values: tuple[str, ...]  # their values in growth_summary_row
    scope: str  # which stored rows belong to the district being rebuilt
    node: str  # the stored row's node, as growth_node has it


_SUMMARY_TABLES = (
    _SummaryTable(
        "reports_classroomunitgrowthsummary",
        0,
        ("classroom_unit_id",),
        ("node_id",),
        "classroom_unit_id IN (SELECT classroom_unit_id FROM growth_target)",
        "n.node_id = s.classroom_unit_id",
    ),
    _SummaryTable(
        "reports_schoolunitgrowthsummary",
        1,
        ("school_id", "unit_id"),
        ("node_id", "unit_id"),
        "school_id IN (SELECT id FROM classrooms_school WHERE district_id = %(district_id)s)",
        "n.node_id = s.school_id AND n.unit_id = s.unit_id",
    ),
    _SummaryTable(
        "reports_districtunitgrowthsummary",
        2,
        ("district_id", "unit_id"),
        ("node_id", "unit_id"),
        "district_id = %(district_id)s",
        "n.node_id = s.district_id AND n.unit_id = s.unit_id",
    ),
)


def _summary_first_sql(table: _SummaryTable, group_count: int, skills: int) -> str:
    """A district's first build: every summary row of the level, straight into its table."""
    rows = f"({_summary_rows_sql(group_count, skills, table.level)})"
    return f"""
        INSERT INTO {table.table} ({", ".join(table.keys)}, {", ".join(SUMMARY_COLUMNS)}, built_at)
        SELECT {", ".join(f"r.{value}" for value in table.values)},
               {", ".join(f"r.{column}" for column in SUMMARY_COLUMNS)}, %(built_at)s
        FROM {_summary_values(rows)} r
    """  # noqa: S608 - names are constants of this module


def _summary_writes(table: _SummaryTable) -> tuple[str, str, str]:
    """UPDATE the rows that changed, INSERT the new ones, DELETE the ones no longer built (of
    changed nodes, and of nodes that are gone)."""
    # coalesce(…, 0), not IS NOT DISTINCT FROM: the planner can hash an equality.
    same_key = " AND ".join(
        f"s.{key} = r.{value}" for key, value in zip(table.keys, table.values, strict=True)
    ) + (
        " AND s.part = r.part AND coalesce(s.student_group_id, 0) = coalesce(r.student_group_id, 0)"
    )
    update = f"""
        UPDATE {table.table} s
        SET ({", ".join(_VALUE_COLUMNS)}, built_at) =
            ({", ".join(f"r.{column}" for column in _VALUE_COLUMNS)}, %(built_at)s)
        FROM {_SUMMARY_VALUES} r
        WHERE r.level = {table.level} AND {same_key}
          AND {_changed("s", "r", _VALUE_COLUMNS)}
    """  # noqa: S608 - names are constants of this module
    insert = f"""
        INSERT INTO {table.table} ({", ".join(table.keys)}, {", ".join(SUMMARY_COLUMNS)}, built_at)
        SELECT {", ".join(f"r.{value}" for value in table.values)},
               {", ".join(f"r.{column}" for column in SUMMARY_COLUMNS)}, %(built_at)s
        FROM {_SUMMARY_VALUES} r
        WHERE r.level = {table.level}
          AND NOT EXISTS (SELECT 1 FROM {table.table} s WHERE {same_key})
    """  # noqa: S608 - names are constants of this module
    delete = f"""
        DELETE FROM {table.table} s
        WHERE {table.scope}
          AND NOT EXISTS (
              SELECT 1 FROM growth_node n
              WHERE n.level = {table.level} AND {table.node} AND NOT n.is_changed
          )
          AND NOT EXISTS (
              SELECT 1 FROM growth_summary_row r WHERE r.level = {table.level} AND {same_key}
          )
    """  # noqa: S608 - names are constants of this module
    return update, insert, delete


# --------------------------------------------------------------------------------------------
# The whole rebuild
# --------------------------------------------------------------------------------------------


_DEFINITION = hashlib.sha256(inspect.getsource(growth).encode()).hexdigest()[:16]
_QUANTILE_PROBABILITY = 1 - (1 - growth.CONFIDENCE_LEVEL) / 2


def quantiles(sizes: Sequence[int]) -> list[tuple[int, float]]:
    """(n, t) with t the quantile of the 95% interval of a mean over n students
    (``growth.student_t_quantile`` at n − 1 degrees of freedom): read from reports_tquantile
    where this version of reports/growth.py computed it before, else computed and kept there
    (a few milliseconds each, hundreds per district; a new process would compute them all)."""
    if not sizes:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT degrees_of_freedom, value FROM reports_tquantile"
            " WHERE definition = %s AND probability = %s AND degrees_of_freedom = ANY(%s)",
            [_DEFINITION, _QUANTILE_PROBABILITY, [n - 1 for n in sizes]],
        )
        stored = dict(cursor.fetchall())
        missing = [
            (n - 1, growth.student_t_quantile_cached(_QUANTILE_PROBABILITY, n - 1))
            for n in sizes
            if n - 1 not in stored
        ]
        if missing:
            cursor.execute(
                "INSERT INTO reports_tquantile (definition, probability, degrees_of_freedom,"
                " value) SELECT %s, %s, df, t FROM unnest(%s::int[], %s::float8[]) AS m(df, t)"
                " ON CONFLICT DO NOTHING",
                [
                    _DEFINITION,
                    _QUANTILE_PROBABILITY,
                    [df for df, _ in missing],
                    [value for _, value in missing],
                ],
            )
            stored.update(missing)
    return [(n, stored[n - 1]) for n in sizes]


@dataclass(frozen=True)
class SqlRebuild:
    """What one district's set-based rebuild found and wrote: student rows, summary rows, and
    summary nodes (classroom units, schools × units, districts × units) whose rows were built
    again because their moments or suppression changed."""

    student_rows: int
    students_written: int
    summary_rows: int
    summaries_written: int
    nodes: int = 0
    changed_nodes: int = 0


PhaseTimer = Any  # a context manager factory taking a phase name (bench/growth_rebuild.py)


@contextmanager
def _untimed(_name: str) -> Iterator[None]:
    yield


def district_rebuild(
    *,
    district_id: int,
    layouts: Mapping[int, UnitLayout],
    group_ids: Sequence[int],
    settings: growth.GrowthSettings,
    minimum_n: int,
    built_at: datetime,
    phase: PhaseTimer = _untimed,
) -> SqlRebuild:
    """Rebuild every student row and summary row of a district's classroom units, writing only
    rows that changed. ``layouts`` covers every unit the district's classroom units teach;
    ``group_ids`` are the district's student groups (ascending). The caller holds the locks."""
    units = sorted(layouts.values(), key=lambda layout: layout.unit_id)
    shape = _shape(units)
    skills = shape.skills
    # The largest total of max points (hundredths) any sum can reach: one assessment's.
    largest = max(
        (
            sum(item.max_points * 100 for item in layout.measures if item.position == position)
            for layout in units
            for position in range(len(layout.kinds))
        ),
        default=Decimal(0),
    )
    shift = 1 << max(int(largest).bit_length(), 1)
    packed = shift <= _PACKING_LIMIT
    slot_of = {
        measure.assessment_skill_id: shape.slot(layout, measure)
        for layout in units
        for measure in layout.measures
    }
    measures = [measure for layout in units for measure in layout.measures]
    parameters: dict[str, Any] = {
        "district_id": district_id,
        "growth_target": settings.growth_target,
        "proficiency_cut": settings.proficiency_cut,
        "developing_cut": settings.developing_cut,
        "little_room": growth.LITTLE_ROOM_TO_GROW_PRE_PERCENTAGE,
        "tolerance": growth.BOUNDARY_TOLERANCE,
        "bands": _BANDS,
        "built_at": built_at,
        "minimum_n": minimum_n,
        "group_ids": list(group_ids),
        "measure_id": [measure.assessment_skill_id for measure in measures],
        "measure_slot": [slot_of[measure.assessment_skill_id] for measure in measures],
        "measure_max": [float(measure.max_points * 100) for measure in measures],
        "shift": float(shift),
    }
    group_count = len(group_ids)
    with connection.cursor() as cursor:
        for setting in _SETTINGS:
            cursor.execute(setting)
        cursor.execute(_DROP)
        with phase("student rows computed"):
            cursor.execute(_BULK)
            cursor.execute(_TARGET, parameters)
            cursor.execute(_unit_table_sql(shape.positions))
            _copy(
                cursor,
                "growth_unit",
                "unit_id, skill_count, weeks, codes"
                + "".join(f", week_{k}, source_{k}" for k in range(shape.positions)),
                [
                    (
                        layout.unit_id,
                        len(layout.skill_codes),
                        list(layout.weeks),
                        list(layout.skill_codes),
                        *(
                            value
                            for k in range(shape.positions)
                            for value in (
                                layout.weeks[k] if k < len(layout.weeks) else None,
                                shape.source(layout, k),
                            )
                        ),
                    )
                    for layout in units
                ],
            )
            cursor.execute("ANALYZE growth_target")
            cursor.execute(_HAS_STUDENT_ROWS)
            (has_rows,) = cursor.fetchone()
            cursor.execute(
                "CREATE TEMPORARY TABLE growth_student ON COMMIT DROP AS"
                f" {_students_sql(shape, packed=packed)}",
                parameters,
            )
            student_rows = cursor.rowcount
        with phase("student rows written"):
            if has_rows:
                cursor.execute(_WRITES)
                cursor.execute(_STUDENTS_DIFF, parameters)
                (students_written,) = cursor.fetchone()
            else:
                cursor.execute(_STUDENTS_FIRST, parameters)
                students_written = cursor.rowcount
        with phase("cells"):
            cursor.execute(_BULK)
            cursor.execute(_partials_sql(skills), parameters)
            for statement in _cells_sql(group_count, skills):
                cursor.execute(statement, parameters)
        with phase("suppression"):
            flags = _suppression(
                cursor,
                district_id=district_id,
                group_ids=group_ids,
                layouts=layouts,
                skills=skills,
                minimum_n=minimum_n,
            )
            cursor.execute(
                "CREATE TEMPORARY TABLE growth_flag (level int, node_id int8, unit_id int8,"
                " group_index int, is_hidden bool, hidden_skills int8) ON COMMIT DROP"
            )
            with cursor.cursor.copy(
                "COPY growth_flag (level, node_id, unit_id, group_index, is_hidden, hidden_skills)"
                " FROM STDIN"
            ) as copy:
                if flags:
                    copy.write("\n".join(flags) + "\n")
            cursor.execute(_node_sql(skills), parameters)
            # t quantiles (milliseconds each) only for the shown cells of changed nodes.
            cursor.execute(
                "SELECT DISTINCT c.n FROM growth_cell c"
                " JOIN growth_node node ON node.level = c.level AND node.node_id = c.node_id"
                " AND node.unit_id = c.unit_id AND node.is_changed"
                " LEFT JOIN growth_flag f ON f.level = c.level AND f.node_id = c.node_id"
                " AND f.unit_id = c.unit_id AND f.group_index = (c.cell - 1) / 2"
                " WHERE c.n >= 2 AND (c.cell = 0 OR NOT f.is_hidden)"
            )
            sizes = [n for (n,) in cursor.fetchall()]
            cursor.execute(
                "CREATE TEMPORARY TABLE growth_quantile (n int4 PRIMARY KEY, t float8)"
                " ON COMMIT DROP"
            )
            _copy(cursor, "growth_quantile", "n, t", quantiles(sizes))
        cursor.execute("SELECT count(*) FILTER (WHERE is_changed), count(*) FROM growth_node")
        changed_nodes, nodes = cursor.fetchone()
        summaries_written = 0
        if not has_rows:
            with phase("summary rows built and written"):
                # A first build: nothing stored to compare with, so straight to the tables.
                for table in _SUMMARY_TABLES:
                    cursor.execute(
                        _SCOPE_DELETE.format(table=table.table, scope=table.scope), parameters
                    )
                    cursor.execute(_summary_first_sql(table, group_count, skills), parameters)
                    summaries_written += cursor.rowcount
        else:
            with phase("summary rows built"):
                cursor.execute(
                    "CREATE TEMPORARY TABLE growth_summary_row ON COMMIT DROP AS"
                    f" {_summary_rows_sql(group_count, skills)}",
                    parameters,
                )
            with phase("summary rows written"):
                for table in _SUMMARY_TABLES:
                    for statement in _summary_writes(table):
                        cursor.execute(statement, parameters)
                        summaries_written += cursor.rowcount
        with phase("summary rows written"):
            cursor.execute(
                "SELECT (SELECT count(*) FROM reports_classroomunitgrowthsummary"
                "        WHERE classroom_unit_id IN (SELECT classroom_unit_id FROM growth_target))"
                " + (SELECT count(*) FROM reports_schoolunitgrowthsummary WHERE school_id IN"
                "        (SELECT id FROM classrooms_school WHERE district_id = %(district_id)s))"
                " + (SELECT count(*) FROM reports_districtunitgrowthsummary"
                "        WHERE district_id = %(district_id)s)",
                parameters,
            )
            (summary_rows,) = cursor.fetchone()
        cursor.execute(_DROP)
    return SqlRebuild(
        student_rows=student_rows,
        students_written=students_written,
        summary_rows=summary_rows,
        summaries_written=summaries_written,
        nodes=nodes,
        changed_nodes=changed_nodes,
    )

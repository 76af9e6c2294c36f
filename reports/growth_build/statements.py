"""The SQL of the growth rebuild, one statement per file in ``sql/``, read once per process.

The files are what runs. Every statement takes named parameters (``%(name)s``); which ones, and
the working tables each reads and writes, are said at the top of its file. One statement,
``students.sql``, has lines that repeat once per assessment and per skill of the widest unit
being rebuilt (``${position_sums}`` and the like), and ``cells.sql`` has lines per skill:
``students_statement`` and ``cells_statement`` fill them in from the numbers alone, and
tests/reports/golden/ holds what they give for a few shapes of units.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from string import Template
from typing import Any

SQL_DIR = Path(__file__).resolve().parent / "sql"


@cache
def statement(name: str) -> str:
    """The statement in ``sql/<name>.sql``."""
    return (SQL_DIR / f"{name}.sql").read_text()


def execute(cursor: Any, name: str, parameters: dict[str, Any]) -> None:
    """Run ``sql/<name>.sql`` with ``parameters``."""
    cursor.execute(statement(name), parameters)


_INDENT = "\n           "


def _sum(terms: list[str]) -> str:
    return " + ".join(terms) if terms else "0"


def _array(items: list[str], element_type: str) -> str:
    return "ARRAY[" + ", ".join(items) + "]" if items else f"'{{}}'::{element_type}[]"


@cache
def students_statement(assessments: int, skills: int) -> str:
    """``sql/students.sql`` for units of at most ``assessments`` assessments and ``skills``
    skills measured at the pre or the post: each marker repeats one line or term per position
    (p_k is assessment k's percentage, w_k its week) or per skill."""
    positions = range(1, assessments + 1)
    indexes = range(1, skills + 1)

    def each_point(expression: str) -> str:
        """``expression`` summed over the assessments that have a percentage."""
        return _sum(
            [
                f"CASE WHEN p_{k} IS NOT NULL THEN {expression.format(k=k)} ELSE 0 END"
                for k in positions
            ]
        )

    def at(position: str) -> str:
        cases = " ".join(f"WHEN {k} THEN p_{k}" for k in positions)
        return f"CASE {position} {cases} END" if cases else "NULL::float8"

    return Template(statement("students")).substitute(
        position_sums="".join(
            f",{_INDENT}sum(points) FILTER (WHERE position = {k}) AS earned_{k}"
            f", sum(max_points) FILTER (WHERE position = {k}) AS max_{k}"
            for k in positions
        ),
        skill_sums="".join(
            f",{_INDENT}sum(points) FILTER (WHERE kind = '{kind}' AND skill_index = {j})"
            f" AS {kind}_skill_{j}"
            for j in indexes
            for kind in ("pre", "post")
        ),
        week_columns="".join(
            f",{_INDENT}(array_agg(week ORDER BY position))[{k}] AS w_{k}" for k in positions
        ),
        percentage_columns="".join(
            f",{_INDENT}100.0::float8 * s.earned_{k} / s.max_{k} AS p_{k}" for k in positions
        ),
        learner_week_columns="".join(f", u.w_{k}" for k in positions),
        pre_skills=_array([f"s.pre_skill_{j}::int" for j in indexes], "int"),
        post_skills=_array([f"s.post_skill_{j}::int" for j in indexes], "int"),
        pre=at("l.pre_position"),
        post=at("l.post_position"),
        point_count=_sum([f"(p_{k} IS NOT NULL)::int" for k in positions]),
        sum_weeks=each_point("w_{k}"),
        sum_percentages=each_point("p_{k}"),
        percentages=_array([f"t.p_{k}" for k in positions], "float8"),
        covariation=each_point("(w_{k} - mean_week) * (p_{k} - mean_percentage)"),
        spread=each_point("(w_{k} - mean_week) * (w_{k} - mean_week)"),
    )


# A cell's columns, added up the same way at every level: counts of students, and exact sums.
_CELL_COUNTS = (
    "incomplete", "n", "g_count", "at_ceiling", "little_room", "target_met",
    "beginning_beginning", "beginning_developing", "beginning_proficient",
    "developing_beginning", "developing_developing", "developing_proficient",
    "proficient_beginning", "proficient_developing", "proficient_proficient",
)  # fmt: skip
_CELL_SUMS = (
    "pre_sum", "pre_squares", "post_sum", "post_squares", "gain_sum", "gain_squares", "g_sum",
)  # fmt: skip
_CELL_SUMS_SQL = f",{_INDENT}".join(
    [f"sum({name})::int AS {name}" for name in _CELL_COUNTS]
    + [f"sum({name}) AS {name}" for name in _CELL_SUMS]
)


@cache
def class_cells_statement(skills: int) -> str:
    """``sql/class_cells.sql`` for units of at most ``skills`` skills measured at the pre or the
    post: each marker repeats, per skill index j, the students scored on it at both and their
    points there."""
    indexes = range(1, skills + 1)

    def both(j: int) -> str:
        return (
            f"is_complete AND pre_skill_points[{j}] IS NOT NULL"
            f" AND post_skill_points[{j}] IS NOT NULL"
        )

    return Template(statement("class_cells")).substitute(
        cell_sums=_CELL_SUMS_SQL,
        skill_partial_sums="".join(
            f",{_INDENT}count(*) FILTER (WHERE {both(j)}) AS skill_n_{j}"
            f",{_INDENT}sum(pre_skill_points[{j}]) FILTER (WHERE {both(j)}) AS skill_pre_{j}"
            f",{_INDENT}sum(post_skill_points[{j}]) FILTER (WHERE {both(j)}) AS skill_post_{j}"
            for j in indexes
        ),
        skill_sums="".join(
            f",{_INDENT}sum(skill_n_{j})::int AS skill_n_{j}, sum(skill_pre_{j}) AS skill_pre_{j}"
            f", sum(skill_post_{j}) AS skill_post_{j}"
            for j in indexes
        ),
        skill_counts=_array([f"c.skill_n_{j}" for j in indexes], "int"),
        skill_pre_points=_array([f"c.skill_pre_{j}::bigint" for j in indexes], "bigint"),
        skill_post_points=_array([f"c.skill_post_{j}::bigint" for j in indexes], "bigint"),
    )


@cache
def cells_statement(skills: int) -> str:
    """``sql/cells.sql`` for units of at most ``skills`` skills: each marker adds up, per skill
    index j, the arrays' j-th elements."""
    indexes = range(1, skills + 1)
    return Template(statement("cells")).substitute(
        cell_sums=_CELL_SUMS_SQL,
        skill_counts=_array([f"sum(skill_counts[{j}])::int" for j in indexes], "int"),
        skill_pre_points=_array([f"sum(skill_pre_points[{j}])::bigint" for j in indexes], "bigint"),
        skill_post_points=_array(
            [f"sum(skill_post_points[{j}])::bigint" for j in indexes], "bigint"
        ),
    )


# Where each level's summary rows are stored: the table, its node columns, how a stored row
# meets its node in growth_node_digest, and which stored rows the rebuild answers for.
_SUMMARY_LEVELS: dict[str, dict[str, str]] = {
    "classroom_unit": {
        "table": "reports_classroomunitgrowthsummary",
        "node_column": "classroom_unit_id",
        "node_columns": "classroom_unit_id",
        "node_match": "n.node_id = s.classroom_unit_id",
        "scope": "s.classroom_unit_id IN (SELECT node_id FROM growth_node"
        " WHERE level = 'classroom_unit')",
        "same_node": "old.classroom_unit_id = new.classroom_unit_id",
    },
    "school": {
        "table": "reports_schoolunitgrowthsummary",
        "node_column": "school_id",
        "node_columns": "school_id, unit_id",
        "node_match": "n.node_id = s.school_id AND n.unit_id = s.unit_id",
        "scope": "s.school_id IN (SELECT id FROM classrooms_school"
        " WHERE district_id = %(district_id)s)"
        " AND s.unit_id = ANY(%(unit_ids)s::bigint[])",
        "same_node": "old.school_id = new.school_id AND old.unit_id = new.unit_id",
    },
    "district": {
        "table": "reports_districtunitgrowthsummary",
        "node_column": "district_id",
        "node_columns": "district_id, unit_id",
        "node_match": "n.node_id = s.district_id AND n.unit_id = s.unit_id",
        "scope": "s.district_id = %(district_id)s AND s.unit_id = ANY(%(unit_ids)s::bigint[])",
        "same_node": "old.district_id = new.district_id AND old.unit_id = new.unit_id",
    },
}
SUMMARY_LEVELS = tuple(_SUMMARY_LEVELS)


@cache
def summaries_write_statement(level: str) -> str:
    """``sql/summaries_write.sql`` for the summary rows of ``level`` (classroom_unit, school or
    district)."""
    return Template(statement("summaries_write")).substitute(level=level, **_SUMMARY_LEVELS[level])

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
        skill_counts=_array([f"sum(skill_counts[{j}])::int" for j in indexes], "int"),
        skill_pre_points=_array([f"sum(skill_pre_points[{j}])::bigint" for j in indexes], "bigint"),
        skill_post_points=_array(
            [f"sum(skill_post_points[{j}])::bigint" for j in indexes], "bigint"
        ),
    )

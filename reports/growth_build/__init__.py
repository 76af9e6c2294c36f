"""The growth rebuild: student rows and summary rows from scores, set-based in PostgreSQL.

One implementation serves both ways in (reports/services.py): after a class's scores change it
rebuilds that classroom unit's student rows and its unit's summaries; the periodic full rebuild
does every classroom unit and unit of a district. The rules are reports/growth/'s, the one
definition of growth (and the oracle the tests compare against); the statements in ``sql/``
apply them to many students at once, each saying which rule it follows.

Steps, inside the caller's transaction (``growth_build``):

1. **Student rows** (``plan.sql``, ``students.sql``, ``students_write.sql``) of the classroom
   units asked for, from their scores in one pass, written only where they changed.
2. **Changed units** (``unit_digests.sql``): a unit whose stored student rows, student groups,
   classroom units and rules are those its summaries were built from is left alone; the steps
   below build the others.
3. **Cells** (``nodes.sql``, ``cells.sql``, ``skill_cells.sql``): for every classroom unit,
   school × unit and district × unit of the units, exact sums over the stored student rows (and,
   per skill, over their pre and post scores), for everyone and for each student group's
   members and the rest. A roll-up is recomputed from them, never patched by difference, so it
   cannot drift from a full rebuild.
4. **Suppression** (``suppression.py``, Python: the rule is growth.py's) over the cells' counts.
5. **Summary rows** (``summaries.sql``, ``summaries_write.sql``), written only where they
   changed; Student's t quantiles come from SciPy (``growth.student_t_quantile``).
6. **Builds** (``builds_done.sql``): the classroom units are current as of when the rebuild
   began to read, unless a score changed since.

Queries and rows written do not grow with the district for one class's change (only reading
the unit's student rows does); bench/growth_rebuild.py measures both ways.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from django.db import connection

from classrooms.models import District
from reports import growth
from reports.growth_build import statements, suppression
from reports.growth_build.suppression import Counts, Node, suppression_flags

# Times a step: phase("student rows") is a context manager (bench/growth_rebuild.py's).
PhaseTimer = Callable[[str], AbstractContextManager[None]]

# Cells add percentages, gains and g as whole multiples of 1/EXACT_SUM_SCALE (sql/cells.sql),
# so their sums are exact and the same in any order. A float8 percentage (at most 100) keeps
# about 15 significant digits; rounding it to 1e-12 keeps them all, and a bigint holds it.
EXACT_SUM_SCALE = 10**12

# pg_advisory_xact_lock(namespace, unit id): one builder at a time writes a unit's summaries.
ROLLUP_LOCK_NAMESPACE = 0x6772  # "gr"

# Compiling these statements just in time costs more than it saves, and their sorts fit in
# memory. The commit need not wait for the WAL to reach disk: every row here is derived, so a
# crash just before loses one rebuild, which the next one redoes.
_SESSION_SETTINGS = """
    SELECT set_config('jit', 'off', true),
           set_config('work_mem', '256MB', true),
           set_config('synchronous_commit', 'off', true)
"""
_LOCKS = """
    SELECT pg_advisory_xact_lock(%(namespace)s, unit_id::int)
    FROM (SELECT unnest(%(unit_ids)s::bigint[]) AS unit_id ORDER BY 1) ascending
"""


@dataclass(frozen=True)
class GrowthBuilt:
    """What one rebuild computed and wrote: student rows of the classroom units asked for, the
    summary rows their units' nodes have (``_written``: inserted, updated or deleted because
    something changed), and the classroom units left stale by a score that changed meanwhile."""

    read_from: datetime
    student_rows: int
    student_rows_written: int
    summary_rows: int
    summary_rows_written: int
    still_stale: tuple[int, ...]


@contextmanager
def _untimed(_name: str) -> Iterator[None]:
    yield


def growth_build(
    *,
    district: District,
    classroom_unit_ids: Sequence[int],
    unit_ids: Sequence[int],
    group_ids: Sequence[int],
    phase: PhaseTimer = _untimed,
) -> GrowthBuilt:
    """Rebuild the student rows of ``classroom_unit_ids`` and every summary row of the units
    ``unit_ids`` in ``district`` (which must include those classroom units' units; its
    ``group_ids`` in ascending order), inside the caller's transaction.

    Takes the units' roll-up locks first (in id order, so builders never deadlock); holds no
    lock a score save waits for until the last statement, just before the commit.
    """
    settings = growth.GrowthSettings(
        growth_target=float(district.growth_target),
        proficiency_cut=float(district.proficiency_cut),
        developing_cut=float(district.developing_cut),
    )
    parameters: dict[str, Any] = {
        "district_id": district.pk,
        "classroom_unit_ids": list(classroom_unit_ids),
        "unit_ids": sorted(unit_ids),
        "group_ids": list(group_ids),
        "minimum_n": district.minimum_n,
        "growth_target": settings.growth_target,
        "proficiency_cut": settings.proficiency_cut,
        "developing_cut": settings.developing_cut,
        "little_room": growth.LITTLE_ROOM_TO_GROW_PRE_PERCENTAGE,
        "hake_medium_from": growth.HAKE_MEDIUM_FROM,
        "hake_high_from": growth.HAKE_HIGH_FROM,
        "tolerance": growth.BOUNDARY_TOLERANCE,
        "exact_sum_scale": EXACT_SUM_SCALE,
        "namespace": ROLLUP_LOCK_NAMESPACE,
    }
    # What a node's summary rows are built from besides its cells: the statement and the
    # settings it reads. A change to either rebuilds every node's rows (node_digests.sql).
    parameters["definition"] = _definition(parameters)
    with connection.cursor() as cursor:
        with phase("locks"):
            cursor.execute(_SESSION_SETTINGS)
            cursor.execute(_LOCKS, parameters)
            # Whatever committed before this moment is in what the statements below read.
            cursor.execute("SELECT clock_timestamp()")
            (parameters["read_from"],) = cursor.fetchone()
            parameters["built_at"] = parameters["read_from"]
            statements.execute(cursor, "drop", parameters)
        with phase("student rows computed"):
            shape = _plan_read(cursor, parameters)
            cursor.execute(statements.students_statement(*shape), parameters)
            student_rows = cursor.rowcount
        with phase("student rows written"):
            statements.execute(cursor, "students_write", parameters)
            (students_written,) = cursor.fetchone()
        with phase("class cells"):
            statements.execute(cursor, "class_digests", parameters)
            cursor.execute(statements.class_cells_statement(shape[1]), parameters)
            statements.execute(cursor, "class_cells_write", parameters)
        with phase("changed units"):
            # A unit none of whose inputs changed since its summaries were written is left
            # as it is (a periodic rebuild over unchanged scores builds no summary).
            statements.execute(cursor, "unit_digests", parameters)
            cursor.execute("SELECT unit_id, is_changed, stored_rows FROM growth_unit_digest")
            units = cursor.fetchall()
            unchanged_rows = sum(rows for _, is_changed, rows in units if not is_changed)
            parameters["unit_ids"] = sorted(unit for unit, is_changed, _ in units if is_changed)
        with phase("cells"):
            statements.execute(cursor, "nodes", parameters)
            # Its row counts lead the plans of the next statements, which read its classroom
            # units as arrays (a temporary table keeps parallel workers away).
            cursor.execute("ANALYZE growth_node (level, unit_id, node_id)")
            cursor.execute(
                "SELECT coalesce(array_agg(node_id), '{}'), coalesce(array_agg(unit_id), '{}'),"
                " coalesce(array_agg(school_id), '{}') FROM growth_node"
                " WHERE level = 'classroom_unit'"
            )
            (
                parameters["node_classroom_unit_ids"],
                parameters["node_unit_ids"],
                parameters["node_school_ids"],
            ) = cursor.fetchone()
            cursor.execute(statements.cells_statement(shape[1]), parameters)
            statements.execute(cursor, "skill_cells", parameters)
        with phase("suppression"):
            _flags_store(cursor, parameters)
            parameters["quantile_n"], parameters["quantile_t"] = _quantiles(cursor)
        with phase("changed nodes"):
            # Their sizes lead the plans of the next statements.
            cursor.execute(
                "ANALYZE growth_cell (level, unit_id, node_id, student_group_id, part),"
                " growth_skill_cell (level, unit_id, node_id, student_group_id, part),"
                " growth_flag (level, unit_id, node_id, student_group_id)"
            )
            statements.execute(cursor, "node_digests", parameters)
            cursor.execute("ANALYZE growth_node_digest (level, unit_id, node_id, is_changed)")
        with phase("summary rows built"):
            statements.execute(cursor, "summaries", parameters)
        with phase("summary rows written"):
            summaries_written = 0
            for level in statements.SUMMARY_LEVELS:
                cursor.execute(statements.summaries_write_statement(level), parameters)
                summaries_written += cursor.fetchone()[0]
            statements.execute(cursor, "summaries_count", parameters)
            (summary_rows,) = cursor.fetchone()
            summary_rows += unchanged_rows
            statements.execute(cursor, "drop", parameters)
            # Last: the build rows' locks are then held only until the commit.
            statements.execute(cursor, "builds_done", parameters)
            still_stale = tuple(sorted(pk for pk, is_stale in cursor.fetchall() if is_stale))
    return GrowthBuilt(
        read_from=parameters["read_from"],
        student_rows=student_rows,
        student_rows_written=students_written,
        summary_rows=summary_rows,
        summary_rows_written=summaries_written,
        still_stale=still_stale,
    )


def _plan_read(cursor: Any, parameters: dict[str, Any]) -> tuple[int, int]:
    """Where each skill's points go (plan.sql), into ``parameters``; the most assessments and
    skills a unit being rebuilt has."""
    statements.execute(cursor, "plan", parameters)
    columns = [column.name for column in cursor.description]
    plan = dict(zip(columns, cursor.fetchone(), strict=True))
    shape = (plan.pop("most_assessments"), plan.pop("most_skills"))
    parameters.update(plan)
    return shape


def _definition(parameters: dict[str, Any]) -> str:
    """A digest of what turns stored student rows into summary rows, besides the rows: the
    statements, the suppression rules, growth.py's definitions and the settings they read. A
    change to any of them (a new release, a district's minimum n) rebuilds every summary."""
    read = (
        "minimum_n",
        "group_ids",
        "hake_medium_from",
        "hake_high_from",
        "tolerance",
        "exact_sum_scale",
    )
    text = _rules_text() + repr([parameters[name] for name in read])
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


@cache
def _rules_text() -> str:
    sources = [
        statements.statement(name)
        for name in (
            "class_cells",
            "nodes",
            "cells",
            "skill_cells",
            "suppression_counts",
            "summaries",
        )
    ]
    rule_files = sorted(Path(growth.__file__ or "").parent.glob("*.py"))
    sources += [path.read_text() for path in [*rule_files, Path(suppression.__file__ or "")]]
    return "\n".join(sources)


def _flags_store(cursor: Any, parameters: dict[str, Any]) -> None:
    """growth_flag: the suppression of every node's student-group pairs, decided in Python
    (suppression.py) from the counts of growth_cell and growth_skill_cell."""
    statements.execute(cursor, "suppression_counts", parameters)
    counts = Counts(cursor.fetchall())
    cursor.execute("SELECT level, unit_id, node_id, school_id FROM growth_node")
    nodes = [Node(*row) for row in cursor.fetchall()]
    flags = suppression_flags(
        nodes=nodes,
        counts=counts,
        group_ids=parameters["group_ids"],
        minimum_n=parameters["minimum_n"],
    )
    cursor.execute(
        "CREATE TEMPORARY TABLE growth_flag (level text, unit_id bigint, node_id bigint,"
        " student_group_id bigint, is_hidden boolean, hidden_codes text[]) ON COMMIT DROP"
    )
    with cursor.cursor.copy(
        "COPY growth_flag (level, unit_id, node_id, student_group_id, is_hidden, hidden_codes)"
        " FROM STDIN"
    ) as copy:
        for flag in flags:
            copy.write_row(
                [*flag.node, flag.student_group_id, flag.is_hidden, list(flag.hidden_codes)]
            )


def _quantiles(cursor: Any) -> tuple[list[int], list[float]]:
    """Student's t at n − 1 degrees of freedom (95% two-sided) for every cell size n ≥ 2."""
    cursor.execute("SELECT DISTINCT n FROM growth_cell WHERE n >= 2 ORDER BY n")
    sizes = [n for (n,) in cursor.fetchall()]
    return sizes, growth.confidence_t_quantiles(sizes)

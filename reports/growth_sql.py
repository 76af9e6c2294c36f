"""The full rebuild's student rows and classroom-unit cells, set-based in PostgreSQL.

This mirrors reports/growth.py, the one definition of growth, for speed only: computing 400 000
student rows one by one in Python takes minutes, in SQL seconds (PERFORMANCE.md). Each rule
below names the function it mirrors; tests/reports/test_growth_summaries.py rebuilds the same
scores both ways (``test_sql_and_python_full_rebuilds_agree*``, a hand-made district and a
seeded demo one) and requires the same rows and summaries.

* assessment percentage (``growth.assessment_percentage``): 100 × points earned / max points
  over scored skills, summed exactly in hundredths of a point; none when nothing was scored;
* skill percentage (``growth.skill_percentage``), pre and post only;
* trajectory and slope (``growth.checkpoint_trajectory``, ``growth.least_squares_slope``):
  week order, pre first and post last within a week; ``regr_slope`` is NULL for fewer than two
  points or a single week, as the Python is None;
* gain, normalized gain (NULL at pre = 100), target, bands and "little room to grow" with the
  same 1e-9 boundary tolerance (``growth.BOUNDARY_TOLERANCE``);
* every enrolled student during the unit gets a row, and so does anyone with a score;
* the cells of each classroom unit (``growth.GrowthMoments``: counts, means and M2 from
  ``var_samp``) for everyone and, by GROUPING SETS in the same pass, for each student group's
  members and the rest.

Everything runs inside the caller's transaction; temporary tables are dropped at commit.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db import connection

from reports import growth, rollups

# Compiling these statements just in time costs more than it saves; sorts fit in memory.
_SETTINGS = ("SET LOCAL jit = off", "SET LOCAL work_mem = '256MB'")

_DISTRICT_CLASSROOM_UNITS = """
    SELECT cu.id AS classroom_unit_id, cu.classroom_id, cu.unit_id, cu.start_date,
           cu.start_date + (u.weeks * 7 - 1) AS ends_on
    FROM units_classroomunit cu
    JOIN units_unit u ON u.id = cu.unit_id
    JOIN classrooms_classroom c ON c.id = cu.classroom_id
    JOIN classrooms_school s ON s.id = c.school_id
    WHERE s.district_id = %(district_id)s
"""

_TEMPORARY_TABLES = (
    "growth_target",
    "growth_measure",
    "growth_percentage",
    "growth_student",
)
# Dropped explicitly as well as at commit: a test, or a caller rebuilding several districts in
# one transaction, builds them again in the same transaction.
_DROP = f"DROP TABLE IF EXISTS {', '.join(_TEMPORARY_TABLES)}"

_TARGET = f"CREATE TEMPORARY TABLE growth_target ON COMMIT DROP AS {_DISTRICT_CLASSROOM_UNITS}"

_MEASURE = """
    CREATE TEMPORARY TABLE growth_measure ON COMMIT DROP AS
    SELECT ask.id, ask.assessment_id, a.kind, a.week, sk.code,
           (ask.max_points * 100)::int8 AS max_hundredths
    FROM units_assessmentskill ask
    JOIN units_assessment a ON a.id = ask.assessment_id
    JOIN units_skill sk ON sk.id = ask.skill_id
    WHERE a.unit_id IN (SELECT DISTINCT unit_id FROM growth_target)
"""

# Per student × assessment: points earned and max points of the scored skills, in hundredths;
# for the pre and the post also each scored skill's percentage (absent and exempt left out).
_PERCENTAGES = """
    CREATE TEMPORARY TABLE growth_percentage ON COMMIT DROP AS
    SELECT sc.classroom_unit_id, sc.student_id, m.assessment_id,
           sum(round(sc.points * 100)::int8) AS earned,
           sum(m.max_hundredths) FILTER (WHERE sc.status = 'scored') AS maximum,
           jsonb_object_agg(m.code, 100.0::float8 * round(sc.points * 100)::int8 / m.max_hundredths)
               FILTER (WHERE sc.status = 'scored' AND m.kind <> 'formative') AS skills
    FROM assessments_score sc
    JOIN growth_measure m ON m.id = sc.assessment_skill_id
    WHERE sc.classroom_unit_id IN (SELECT classroom_unit_id FROM growth_target)
    GROUP BY sc.classroom_unit_id, sc.student_id, m.assessment_id
"""

_STUDENTS = """
    CREATE TEMPORARY TABLE growth_student ON COMMIT DROP AS
    WITH per_student AS (
        SELECT p.classroom_unit_id, p.student_id,
               min(100.0::float8 * p.earned / p.maximum) FILTER (WHERE a.kind = 'pre') AS pre,
               min(100.0::float8 * p.earned / p.maximum) FILTER (WHERE a.kind = 'post') AS post,
               jsonb_agg(jsonb_build_array(a.week, 100.0::float8 * p.earned / p.maximum)
                         ORDER BY a.week,
                                  CASE a.kind WHEN 'pre' THEN 0 WHEN 'formative' THEN 1 ELSE 2 END,
                                  a.title)
                   FILTER (WHERE p.maximum IS NOT NULL) AS trajectory,
               regr_slope(100.0::float8 * p.earned / p.maximum, a.week) AS slope,
               (array_agg(p.skills) FILTER (WHERE a.kind = 'pre'))[1] AS pre_skills,
               (array_agg(p.skills) FILTER (WHERE a.kind = 'post'))[1] AS post_skills
        FROM growth_percentage p
        JOIN units_assessment a ON a.id = p.assessment_id
        GROUP BY p.classroom_unit_id, p.student_id
    ),
    members AS (
        SELECT t.classroom_unit_id, e.student_id
        FROM growth_target t
        JOIN classrooms_enrollment e ON e.classroom_id = t.classroom_id
        WHERE e.start_date <= t.ends_on AND (e.end_date IS NULL OR e.end_date >= t.start_date)
        UNION
        SELECT classroom_unit_id, student_id FROM per_student
    ),
    measured AS (
        SELECT m.classroom_unit_id, m.student_id, p.pre, p.post, p.slope, p.trajectory,
               p.pre_skills, p.post_skills,
               p.pre IS NOT NULL AND p.post IS NOT NULL AS is_complete,
               CASE WHEN p.pre < 100 THEN (p.post - p.pre) / (100 - p.pre) END AS g
        FROM members m
        LEFT JOIN per_student p USING (classroom_unit_id, student_id)
    )
    SELECT classroom_unit_id, student_id,
           pre AS pre_percentage,
           post AS post_percentage,
           post - pre AS gain,
           g AS normalized_gain,
           coalesce(pre = 100, false) AS is_at_ceiling,
           coalesce(pre >= %(little_room)s - %(tolerance)s, false) AS has_little_room_to_grow,
           slope AS slope_per_week,
           CASE WHEN is_complete THEN post >= %(proficiency_cut)s - %(tolerance)s
                                      OR coalesce(g >= %(growth_target)s - %(tolerance)s, false)
           END AS is_target_met,
           is_complete,
           CASE WHEN pre IS NULL THEN ''
                WHEN pre >= %(proficiency_cut)s - %(tolerance)s THEN 'proficient'
                WHEN pre >= %(developing_cut)s - %(tolerance)s THEN 'developing'
                ELSE 'beginning' END AS pre_band,
           CASE WHEN post IS NULL THEN ''
                WHEN post >= %(proficiency_cut)s - %(tolerance)s THEN 'proficient'
                WHEN post >= %(developing_cut)s - %(tolerance)s THEN 'developing'
                ELSE 'beginning' END AS post_band,
           coalesce(pre_skills, '{}') AS pre_skill_percentages,
           coalesce(post_skills, '{}') AS post_skill_percentages,
           coalesce(trajectory, '[]') AS trajectory
    FROM measured
"""

_COLUMNS = (
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
    "pre_skill_percentages",
    "post_skill_percentages",
    "trajectory",
)

# Only rows whose values changed are written: a nightly rebuild of an unchanged district reads.
_UPSERT = f"""
    INSERT INTO reports_studentgrowth (classroom_unit_id, student_id, {", ".join(_COLUMNS)},
                                       built_at)
    SELECT classroom_unit_id, student_id, {", ".join(_COLUMNS)}, %(built_at)s
    FROM growth_student
    ON CONFLICT (classroom_unit_id, student_id) DO UPDATE
    SET {", ".join(f"{column} = EXCLUDED.{column}" for column in _COLUMNS)},
        built_at = EXCLUDED.built_at
    WHERE ({", ".join(f"reports_studentgrowth.{column}" for column in _COLUMNS)})
          IS DISTINCT FROM ({", ".join(f"EXCLUDED.{column}" for column in _COLUMNS)})
"""  # noqa: S608 - column names are constants of this module

_DELETE_GONE = """
    DELETE FROM reports_studentgrowth sg
    USING growth_target t
    WHERE sg.classroom_unit_id = t.classroom_unit_id
      AND NOT EXISTS (
          SELECT 1 FROM growth_student g
          WHERE g.classroom_unit_id = sg.classroom_unit_id AND g.student_id = sg.student_id
      )
"""

_TRANSITIONS = ",\n".join(
    f"count(*) FILTER (WHERE is_complete AND pre_band = '{before.value}' "
    f"AND post_band = '{after.value}')"
    for before, after in growth.BAND_PAIRS
)

_MOMENTS = f"""
    count(*) FILTER (WHERE NOT is_complete),
    count(*) FILTER (WHERE is_complete),
    avg(pre_percentage) FILTER (WHERE is_complete),
    var_samp(pre_percentage) FILTER (WHERE is_complete),
    avg(post_percentage) FILTER (WHERE is_complete),
    var_samp(post_percentage) FILTER (WHERE is_complete),
    avg(gain) FILTER (WHERE is_complete),
    var_samp(gain) FILTER (WHERE is_complete),
    count(normalized_gain) FILTER (WHERE is_complete),
    sum(normalized_gain) FILTER (WHERE is_complete),
    count(*) FILTER (WHERE is_complete AND is_at_ceiling),
    count(*) FILTER (WHERE is_complete AND has_little_room_to_grow),
    count(*) FILTER (WHERE is_complete AND is_target_met),
    {_TRANSITIONS}
"""  # noqa: S608 - band names are constants


def _flagged_students(group_count: int) -> str:
    """Each student row with in_0 … in_k: whether the student is in student group i."""
    flags = "".join(
        f", coalesce(%(group_{index})s = ANY(groups), false) AS in_{index}"
        for index in range(group_count)
    )
    return f"""
        SELECT s.*{flags}
        FROM growth_student s
        LEFT JOIN (
            SELECT student_id, array_agg(studentgroup_id) AS groups
            FROM classrooms_student_groups
            WHERE studentgroup_id = ANY(%(group_ids)s)
            GROUP BY student_id
        ) m USING (student_id)
    """  # noqa: S608 - only numbered placeholders are put in


def _grouping_sets(keys: str, group_count: int) -> str:
    """Everyone, and each student group split into members and the rest, in one pass."""
    sets = [f"({keys})", *(f"({keys}, in_{index})" for index in range(group_count))]
    return f"GROUPING SETS ({', '.join(sets)})"


def _cells_sql(group_count: int) -> str:
    flags = "".join(f", in_{index}" for index in range(group_count))
    return f"""
        SELECT classroom_unit_id{flags}, {_MOMENTS}
        FROM ({_flagged_students(group_count)}) students
        GROUP BY {_grouping_sets("classroom_unit_id", group_count)}
    """  # noqa: S608


def _skill_cells_sql(group_count: int) -> str:
    """Per skill: complete students with the skill at both pre and post, and their sums."""
    flags = "".join(f", in_{index}" for index in range(group_count))
    return f"""
        SELECT classroom_unit_id, code{flags}, count(*), sum(pre), sum(post)
        FROM (
            SELECT students.*, k.key AS code, k.value::float8 AS pre,
                   (students.post_skill_percentages ->> k.key)::float8 AS post
            FROM ({_flagged_students(group_count)}) students
            CROSS JOIN LATERAL jsonb_each_text(students.pre_skill_percentages) k
            WHERE students.is_complete
        ) skills
        WHERE post IS NOT NULL
        GROUP BY {_grouping_sets("classroom_unit_id, code", group_count)}
    """  # noqa: S608


def district_student_growth_rebuild(
    *, district_id: int, settings: growth.GrowthSettings, built_at: datetime
) -> int:
    """Compute every student row of a district's classroom units, write the changed ones, and
    delete rows of students no longer in a classroom unit. Leaves the computed rows in the
    temporary table ``growth_student`` for ``district_classroom_unit_cells``. Returns the
    number of student rows."""
    parameters: dict[str, Any] = {
        "district_id": district_id,
        "growth_target": settings.growth_target,
        "proficiency_cut": settings.proficiency_cut,
        "developing_cut": settings.developing_cut,
        "little_room": growth.LITTLE_ROOM_TO_GROW_PRE_PERCENTAGE,
        "tolerance": growth.BOUNDARY_TOLERANCE,
        "built_at": built_at,
    }
    with connection.cursor() as cursor:
        for setting in _SETTINGS:
            cursor.execute(setting)
        cursor.execute(_DROP)
        cursor.execute(_TARGET, parameters)
        cursor.execute(_MEASURE)
        cursor.execute("ANALYZE growth_target")
        cursor.execute("ANALYZE growth_measure")
        cursor.execute(_PERCENTAGES)
        cursor.execute(_STUDENTS, parameters)
        # The index keeps the anti-join below a probe per row whatever the planner believes
        # about a freshly filled reports_studentgrowth.
        cursor.execute("CREATE INDEX ON growth_student (classroom_unit_id, student_id)")
        cursor.execute(_UPSERT, parameters)
        cursor.execute(_DELETE_GONE)
        cursor.execute("SELECT count(*) FROM growth_student")
        (count,) = cursor.fetchone()
    return int(count)


def district_classroom_unit_cells(
    *, district_id: int, group_ids: list[int]
) -> dict[int, rollups.Cells]:
    """The cells of every classroom unit just rebuilt by ``district_student_growth_rebuild``
    (everyone, and per student group its members and the rest), in two passes over the
    students; drops the temporary tables."""
    parameters: dict[str, Any] = {"group_ids": group_ids} | {
        f"group_{index}": group_id for index, group_id in enumerate(group_ids)
    }
    keys = _cell_keys(group_ids)
    count = len(group_ids)
    skills: defaultdict[tuple[int, rollups.CellKey], dict[str, growth.SkillMoments]] = defaultdict(
        dict
    )
    cells: defaultdict[int, rollups.Cells] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(_skill_cells_sql(count), parameters)
        for classroom_unit_id, code, *rest in cursor.fetchall():
            n, pre_sum, post_sum = rest[count:]
            skills[(classroom_unit_id, keys[tuple(rest[:count])])][code] = growth.SkillMoments(
                n=n, pre_sum=pre_sum, post_sum=post_sum
            )
        cursor.execute(_cells_sql(count), parameters)
        for classroom_unit_id, *rest in cursor.fetchall():
            key = keys[tuple(rest[:count])]
            cells[classroom_unit_id][key] = _moments(
                tuple(rest[count:]), skills.get((classroom_unit_id, key), {})
            )
        cursor.execute(_DROP)
    return dict(cells)


def _cell_keys(group_ids: list[int]) -> dict[tuple[bool | None, ...], rollups.CellKey]:
    """Which cell a grouping-set row is, by its membership flags: every flag grouped away
    (NULL) is everyone; otherwise the one flag kept says member (true) or rest (false)."""
    none: tuple[bool | None, ...] = (None,) * len(group_ids)
    keys = {none: rollups.ALL}
    for index, group_id in enumerate(group_ids):
        for flag, key in ((True, rollups.group_key(group_id)), (False, rollups.rest_key(group_id))):
            keys[none[:index] + (flag,) + none[index + 1 :]] = key
    return keys


def _running(n: int, mean: float | None, variance: float | None) -> growth.RunningMoments:
    if n == 0 or mean is None:
        return growth.RunningMoments()
    return growth.RunningMoments(
        count=n, mean=mean, squared_deviations=0.0 if variance is None else variance * (n - 1)
    )


def _moments(
    values: tuple[Any, ...], skills: dict[str, growth.SkillMoments]
) -> growth.GrowthMoments:
    (
        incomplete,
        n,
        mean_pre,
        variance_pre,
        mean_post,
        variance_post,
        mean_gain,
        variance_gain,
        g_count,
        g_sum,
        at_ceiling,
        little_room,
        target_met,
        *transitions,
    ) = values
    return growth.GrowthMoments(
        incomplete_count=incomplete,
        pre=_running(n, mean_pre, variance_pre),
        post=_running(n, mean_post, variance_post),
        gain=_running(n, mean_gain, variance_gain),
        individual_gain_count=g_count,
        individual_gain_sum=g_sum or 0.0,
        at_ceiling_count=at_ceiling,
        little_room_to_grow_count=little_room,
        target_met_count=target_met,
        band_transition_counts=tuple(transitions),
        skills=skills,
    )

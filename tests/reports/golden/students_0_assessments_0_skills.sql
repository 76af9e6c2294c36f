-- growth_student: the growth row (growth.student_growth in reports/growth/, whose names this
-- follows) of every student of the classroom units %(classroom_unit_ids)s: everyone enrolled at
-- some time during the unit, and anyone with a score in it. Where each skill's points go comes
-- from plan.sql (%(measure_ids)s and the arrays beside it).
--
-- One pass over the scores: per student, the points earned and the max points of the skills
-- scored at each assessment (by its position in the trajectory), in whole hundredths, so a
-- percentage divides two exact numbers once, as Python's Decimal arithmetic does; and each
-- skill's points at the pre and at the post (by the skill's index among the unit's codes).
-- The ${...} markers repeat one sum per position and per skill, as many as the widest
-- unit being rebuilt has (reports/growth_build/statements.py fills them in;
-- tests/reports/golden/ holds the statement as it runs for a few shapes of units).
CREATE TEMPORARY TABLE growth_student ON COMMIT DROP AS
WITH classroom_unit AS NOT MATERIALIZED (
    SELECT cu.id AS classroom_unit_id, cu.unit_id, cu.classroom_id, cu.start_date,
           cu.start_date + (u.weeks * 7 - 1) AS ends_on
    FROM units_classroomunit cu
    JOIN units_unit u ON u.id = cu.unit_id
    WHERE cu.id = ANY(%(classroom_unit_ids)s::bigint[])
),
measure AS NOT MATERIALIZED (
    SELECT *
    FROM unnest(%(measure_ids)s::bigint[], %(measure_units)s::bigint[],
                %(measure_positions)s::int[], %(measure_weeks)s::int[],
                %(measure_kinds)s::text[], %(measure_codes)s::text[],
                %(measure_skill_indexes)s::int[], %(measure_maxima)s::int[])
        AS m(assessment_skill_id, unit_id, position, week, kind, code, skill_index, max_points)
),
unit AS (
    -- Each unit's assessment weeks in trajectory order, and where its pre and post are.
    SELECT unit_id,
           array_agg(week::smallint ORDER BY position) AS weeks,
           min(position) FILTER (WHERE kind = 'pre') AS pre_position,
           min(position) FILTER (WHERE kind = 'post') AS post_position
    FROM (SELECT DISTINCT unit_id, position, week, kind FROM measure) assessment
    GROUP BY unit_id
),
unit_code AS (
    -- The codes each unit's pre and post measure, in code order (their skill indexes).
    SELECT unit_id, array_agg(code::varchar ORDER BY skill_index) AS codes
    FROM (SELECT DISTINCT unit_id, code, skill_index FROM measure
          WHERE skill_index IS NOT NULL) skill
    GROUP BY unit_id
),
score AS (
    -- Each score where the plan puts it; points only when scored: absent and exempt skills
    -- count in neither the points earned nor the max points. And, so that they get a row too,
    -- every student enrolled at some time during the unit, with nothing scored.
    SELECT sc.classroom_unit_id, sc.student_id, m.position, m.kind, m.skill_index,
           CASE WHEN sc.status = 'scored' THEN (sc.points * 100)::int END AS points,
           CASE WHEN sc.status = 'scored' THEN m.max_points END AS max_points
    FROM assessments_score sc
    JOIN measure m ON m.assessment_skill_id = sc.assessment_skill_id
    WHERE sc.classroom_unit_id = ANY(%(classroom_unit_ids)s::bigint[])
    UNION ALL
    SELECT cu.classroom_unit_id, e.student_id, NULL, NULL, NULL, NULL, NULL
    FROM classroom_unit cu
    JOIN classrooms_enrollment e ON e.classroom_id = cu.classroom_id
    WHERE e.start_date <= cu.ends_on
      AND (e.end_date IS NULL OR e.end_date >= cu.start_date)
),
per_student AS (
    SELECT classroom_unit_id, student_id
    FROM score
    GROUP BY classroom_unit_id, student_id
),
learner AS (
    -- growth.assessment_percentage at every assessment of the plan (p_1, p_2, … in trajectory
    -- order): points earned / max points of the skills actually scored × 100 (NULL where
    -- nothing was), with the week of each (w_1, w_2, …).
    SELECT s.classroom_unit_id, s.student_id,
           coalesce(u.weeks, '{}') AS checkpoint_weeks,
           u.pre_position, u.post_position,
           coalesce(k.codes, '{}') AS skill_codes,
           ('{}'::int[])[1:coalesce(cardinality(k.codes), 0)] AS pre_skill_points,
           ('{}'::int[])[1:coalesce(cardinality(k.codes), 0)] AS post_skill_points
    FROM per_student s
    JOIN classroom_unit cu ON cu.classroom_unit_id = s.classroom_unit_id
    LEFT JOIN unit u ON u.unit_id = cu.unit_id
    LEFT JOIN unit_code k ON k.unit_id = cu.unit_id
),
trajectory AS MATERIALIZED (
    -- The pre and post percentages, and what growth.least_squares_slope needs: how many
    -- assessments have a percentage, and their mean week and mean percentage. Materialized:
    -- each is read many times below.
    SELECT l.*,
           NULL::float8 AS pre,
           NULL::float8 AS post,
           0 AS point_count,
           (0)::float8 / nullif(0, 0) AS mean_week,
           (0) / nullif(0, 0) AS mean_percentage
    FROM learner l
),
growth AS (
    SELECT t.*,
           ('{}'::float8[])[1:cardinality(t.checkpoint_weeks)] AS checkpoint_percentages,
           -- growth.least_squares_slope: Σ (w − w̄)(p − p̄) / Σ (w − w̄)² over the assessments
           -- that have a percentage (none with fewer than two, or all in one week).
           CASE WHEN t.point_count >= 2 AND (0) > 0
                THEN (0) / (0) END AS slope_per_week
    FROM trajectory t
)
SELECT g.classroom_unit_id,
       g.student_id,
       g.pre AS pre_percentage,
       g.post AS post_percentage,
       g.post - g.pre AS gain,
       -- g: undefined at the ceiling (pre = 100), never a number there.
       CASE WHEN g.pre <> 100 THEN (g.post - g.pre) / (100 - g.pre) END AS normalized_gain,
       coalesce(g.pre = 100, false) AS is_at_ceiling,
       -- Thresholds allow growth.BOUNDARY_TOLERANCE, as growth._reaches does.
       coalesce(g.pre >= %(little_room)s - %(tolerance)s, false) AS has_little_room_to_grow,
       g.slope_per_week,
       CASE WHEN g.pre IS NOT NULL AND g.post IS NOT NULL
            THEN g.post >= %(proficiency_cut)s - %(tolerance)s
                 OR coalesce((g.post - g.pre) / nullif(100 - g.pre, 0)
                             >= %(growth_target)s - %(tolerance)s, false)
       END AS is_target_met,
       g.pre IS NOT NULL AND g.post IS NOT NULL AS is_complete,
       CASE WHEN g.pre >= %(proficiency_cut)s - %(tolerance)s THEN 'proficient'
            WHEN g.pre >= %(developing_cut)s - %(tolerance)s THEN 'developing'
            WHEN g.pre IS NOT NULL THEN 'beginning'
            ELSE '' END AS pre_band,
       CASE WHEN g.post >= %(proficiency_cut)s - %(tolerance)s THEN 'proficient'
            WHEN g.post >= %(developing_cut)s - %(tolerance)s THEN 'developing'
            WHEN g.post IS NOT NULL THEN 'beginning'
            ELSE '' END AS post_band,
       g.checkpoint_weeks,
       g.checkpoint_percentages,
       g.skill_codes,
       g.pre_skill_points,
       g.post_skill_points
FROM growth g

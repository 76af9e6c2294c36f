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
           min(position) FILTER (WHERE kind = 'post') AS post_position,
           (array_agg(week ORDER BY position))[1] AS w_1,
           (array_agg(week ORDER BY position))[2] AS w_2,
           (array_agg(week ORDER BY position))[3] AS w_3,
           (array_agg(week ORDER BY position))[4] AS w_4,
           (array_agg(week ORDER BY position))[5] AS w_5,
           (array_agg(week ORDER BY position))[6] AS w_6,
           (array_agg(week ORDER BY position))[7] AS w_7,
           (array_agg(week ORDER BY position))[8] AS w_8,
           (array_agg(week ORDER BY position))[9] AS w_9,
           (array_agg(week ORDER BY position))[10] AS w_10
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
    SELECT classroom_unit_id, student_id,
           sum(points) FILTER (WHERE position = 1) AS earned_1, sum(max_points) FILTER (WHERE position = 1) AS max_1,
           sum(points) FILTER (WHERE position = 2) AS earned_2, sum(max_points) FILTER (WHERE position = 2) AS max_2,
           sum(points) FILTER (WHERE position = 3) AS earned_3, sum(max_points) FILTER (WHERE position = 3) AS max_3,
           sum(points) FILTER (WHERE position = 4) AS earned_4, sum(max_points) FILTER (WHERE position = 4) AS max_4,
           sum(points) FILTER (WHERE position = 5) AS earned_5, sum(max_points) FILTER (WHERE position = 5) AS max_5,
           sum(points) FILTER (WHERE position = 6) AS earned_6, sum(max_points) FILTER (WHERE position = 6) AS max_6,
           sum(points) FILTER (WHERE position = 7) AS earned_7, sum(max_points) FILTER (WHERE position = 7) AS max_7,
           sum(points) FILTER (WHERE position = 8) AS earned_8, sum(max_points) FILTER (WHERE position = 8) AS max_8,
           sum(points) FILTER (WHERE position = 9) AS earned_9, sum(max_points) FILTER (WHERE position = 9) AS max_9,
           sum(points) FILTER (WHERE position = 10) AS earned_10, sum(max_points) FILTER (WHERE position = 10) AS max_10,
           sum(points) FILTER (WHERE kind = 'pre' AND skill_index = 1) AS pre_skill_1,
           sum(points) FILTER (WHERE kind = 'post' AND skill_index = 1) AS post_skill_1,
           sum(points) FILTER (WHERE kind = 'pre' AND skill_index = 2) AS pre_skill_2,
           sum(points) FILTER (WHERE kind = 'post' AND skill_index = 2) AS post_skill_2,
           sum(points) FILTER (WHERE kind = 'pre' AND skill_index = 3) AS pre_skill_3,
           sum(points) FILTER (WHERE kind = 'post' AND skill_index = 3) AS post_skill_3,
           sum(points) FILTER (WHERE kind = 'pre' AND skill_index = 4) AS pre_skill_4,
           sum(points) FILTER (WHERE kind = 'post' AND skill_index = 4) AS post_skill_4,
           sum(points) FILTER (WHERE kind = 'pre' AND skill_index = 5) AS pre_skill_5,
           sum(points) FILTER (WHERE kind = 'post' AND skill_index = 5) AS post_skill_5,
           sum(points) FILTER (WHERE kind = 'pre' AND skill_index = 6) AS pre_skill_6,
           sum(points) FILTER (WHERE kind = 'post' AND skill_index = 6) AS post_skill_6
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
           (ARRAY[s.pre_skill_1::int, s.pre_skill_2::int, s.pre_skill_3::int, s.pre_skill_4::int, s.pre_skill_5::int, s.pre_skill_6::int])[1:coalesce(cardinality(k.codes), 0)] AS pre_skill_points,
           (ARRAY[s.post_skill_1::int, s.post_skill_2::int, s.post_skill_3::int, s.post_skill_4::int, s.post_skill_5::int, s.post_skill_6::int])[1:coalesce(cardinality(k.codes), 0)] AS post_skill_points,
           100.0::float8 * s.earned_1 / s.max_1 AS p_1,
           100.0::float8 * s.earned_2 / s.max_2 AS p_2,
           100.0::float8 * s.earned_3 / s.max_3 AS p_3,
           100.0::float8 * s.earned_4 / s.max_4 AS p_4,
           100.0::float8 * s.earned_5 / s.max_5 AS p_5,
           100.0::float8 * s.earned_6 / s.max_6 AS p_6,
           100.0::float8 * s.earned_7 / s.max_7 AS p_7,
           100.0::float8 * s.earned_8 / s.max_8 AS p_8,
           100.0::float8 * s.earned_9 / s.max_9 AS p_9,
           100.0::float8 * s.earned_10 / s.max_10 AS p_10, u.w_1, u.w_2, u.w_3, u.w_4, u.w_5, u.w_6, u.w_7, u.w_8, u.w_9, u.w_10
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
           CASE l.pre_position WHEN 1 THEN p_1 WHEN 2 THEN p_2 WHEN 3 THEN p_3 WHEN 4 THEN p_4 WHEN 5 THEN p_5 WHEN 6 THEN p_6 WHEN 7 THEN p_7 WHEN 8 THEN p_8 WHEN 9 THEN p_9 WHEN 10 THEN p_10 END AS pre,
           CASE l.post_position WHEN 1 THEN p_1 WHEN 2 THEN p_2 WHEN 3 THEN p_3 WHEN 4 THEN p_4 WHEN 5 THEN p_5 WHEN 6 THEN p_6 WHEN 7 THEN p_7 WHEN 8 THEN p_8 WHEN 9 THEN p_9 WHEN 10 THEN p_10 END AS post,
           (p_1 IS NOT NULL)::int + (p_2 IS NOT NULL)::int + (p_3 IS NOT NULL)::int + (p_4 IS NOT NULL)::int + (p_5 IS NOT NULL)::int + (p_6 IS NOT NULL)::int + (p_7 IS NOT NULL)::int + (p_8 IS NOT NULL)::int + (p_9 IS NOT NULL)::int + (p_10 IS NOT NULL)::int AS point_count,
           (CASE WHEN p_1 IS NOT NULL THEN w_1 ELSE 0 END + CASE WHEN p_2 IS NOT NULL THEN w_2 ELSE 0 END + CASE WHEN p_3 IS NOT NULL THEN w_3 ELSE 0 END + CASE WHEN p_4 IS NOT NULL THEN w_4 ELSE 0 END + CASE WHEN p_5 IS NOT NULL THEN w_5 ELSE 0 END + CASE WHEN p_6 IS NOT NULL THEN w_6 ELSE 0 END + CASE WHEN p_7 IS NOT NULL THEN w_7 ELSE 0 END + CASE WHEN p_8 IS NOT NULL THEN w_8 ELSE 0 END + CASE WHEN p_9 IS NOT NULL THEN w_9 ELSE 0 END + CASE WHEN p_10 IS NOT NULL THEN w_10 ELSE 0 END)::float8 / nullif((p_1 IS NOT NULL)::int + (p_2 IS NOT NULL)::int + (p_3 IS NOT NULL)::int + (p_4 IS NOT NULL)::int + (p_5 IS NOT NULL)::int + (p_6 IS NOT NULL)::int + (p_7 IS NOT NULL)::int + (p_8 IS NOT NULL)::int + (p_9 IS NOT NULL)::int + (p_10 IS NOT NULL)::int, 0) AS mean_week,
           (CASE WHEN p_1 IS NOT NULL THEN p_1 ELSE 0 END + CASE WHEN p_2 IS NOT NULL THEN p_2 ELSE 0 END + CASE WHEN p_3 IS NOT NULL THEN p_3 ELSE 0 END + CASE WHEN p_4 IS NOT NULL THEN p_4 ELSE 0 END + CASE WHEN p_5 IS NOT NULL THEN p_5 ELSE 0 END + CASE WHEN p_6 IS NOT NULL THEN p_6 ELSE 0 END + CASE WHEN p_7 IS NOT NULL THEN p_7 ELSE 0 END + CASE WHEN p_8 IS NOT NULL THEN p_8 ELSE 0 END + CASE WHEN p_9 IS NOT NULL THEN p_9 ELSE 0 END + CASE WHEN p_10 IS NOT NULL THEN p_10 ELSE 0 END) / nullif((p_1 IS NOT NULL)::int + (p_2 IS NOT NULL)::int + (p_3 IS NOT NULL)::int + (p_4 IS NOT NULL)::int + (p_5 IS NOT NULL)::int + (p_6 IS NOT NULL)::int + (p_7 IS NOT NULL)::int + (p_8 IS NOT NULL)::int + (p_9 IS NOT NULL)::int + (p_10 IS NOT NULL)::int, 0) AS mean_percentage
    FROM learner l
),
growth AS (
    SELECT t.*,
           (ARRAY[t.p_1, t.p_2, t.p_3, t.p_4, t.p_5, t.p_6, t.p_7, t.p_8, t.p_9, t.p_10])[1:cardinality(t.checkpoint_weeks)] AS checkpoint_percentages,
           -- growth.least_squares_slope: Σ (w − w̄)(p − p̄) / Σ (w − w̄)² over the assessments
           -- that have a percentage (none with fewer than two, or all in one week).
           CASE WHEN t.point_count >= 2 AND (CASE WHEN p_1 IS NOT NULL THEN (w_1 - mean_week) * (w_1 - mean_week) ELSE 0 END + CASE WHEN p_2 IS NOT NULL THEN (w_2 - mean_week) * (w_2 - mean_week) ELSE 0 END + CASE WHEN p_3 IS NOT NULL THEN (w_3 - mean_week) * (w_3 - mean_week) ELSE 0 END + CASE WHEN p_4 IS NOT NULL THEN (w_4 - mean_week) * (w_4 - mean_week) ELSE 0 END + CASE WHEN p_5 IS NOT NULL THEN (w_5 - mean_week) * (w_5 - mean_week) ELSE 0 END + CASE WHEN p_6 IS NOT NULL THEN (w_6 - mean_week) * (w_6 - mean_week) ELSE 0 END + CASE WHEN p_7 IS NOT NULL THEN (w_7 - mean_week) * (w_7 - mean_week) ELSE 0 END + CASE WHEN p_8 IS NOT NULL THEN (w_8 - mean_week) * (w_8 - mean_week) ELSE 0 END + CASE WHEN p_9 IS NOT NULL THEN (w_9 - mean_week) * (w_9 - mean_week) ELSE 0 END + CASE WHEN p_10 IS NOT NULL THEN (w_10 - mean_week) * (w_10 - mean_week) ELSE 0 END) > 0
                THEN (CASE WHEN p_1 IS NOT NULL THEN (w_1 - mean_week) * (p_1 - mean_percentage) ELSE 0 END + CASE WHEN p_2 IS NOT NULL THEN (w_2 - mean_week) * (p_2 - mean_percentage) ELSE 0 END + CASE WHEN p_3 IS NOT NULL THEN (w_3 - mean_week) * (p_3 - mean_percentage) ELSE 0 END + CASE WHEN p_4 IS NOT NULL THEN (w_4 - mean_week) * (p_4 - mean_percentage) ELSE 0 END + CASE WHEN p_5 IS NOT NULL THEN (w_5 - mean_week) * (p_5 - mean_percentage) ELSE 0 END + CASE WHEN p_6 IS NOT NULL THEN (w_6 - mean_week) * (p_6 - mean_percentage) ELSE 0 END + CASE WHEN p_7 IS NOT NULL THEN (w_7 - mean_week) * (p_7 - mean_percentage) ELSE 0 END + CASE WHEN p_8 IS NOT NULL THEN (w_8 - mean_week) * (p_8 - mean_percentage) ELSE 0 END + CASE WHEN p_9 IS NOT NULL THEN (w_9 - mean_week) * (p_9 - mean_percentage) ELSE 0 END + CASE WHEN p_10 IS NOT NULL THEN (w_10 - mean_week) * (p_10 - mean_percentage) ELSE 0 END) / (CASE WHEN p_1 IS NOT NULL THEN (w_1 - mean_week) * (w_1 - mean_week) ELSE 0 END + CASE WHEN p_2 IS NOT NULL THEN (w_2 - mean_week) * (w_2 - mean_week) ELSE 0 END + CASE WHEN p_3 IS NOT NULL THEN (w_3 - mean_week) * (w_3 - mean_week) ELSE 0 END + CASE WHEN p_4 IS NOT NULL THEN (w_4 - mean_week) * (w_4 - mean_week) ELSE 0 END + CASE WHEN p_5 IS NOT NULL THEN (w_5 - mean_week) * (w_5 - mean_week) ELSE 0 END + CASE WHEN p_6 IS NOT NULL THEN (w_6 - mean_week) * (w_6 - mean_week) ELSE 0 END + CASE WHEN p_7 IS NOT NULL THEN (w_7 - mean_week) * (w_7 - mean_week) ELSE 0 END + CASE WHEN p_8 IS NOT NULL THEN (w_8 - mean_week) * (w_8 - mean_week) ELSE 0 END + CASE WHEN p_9 IS NOT NULL THEN (w_9 - mean_week) * (w_9 - mean_week) ELSE 0 END + CASE WHEN p_10 IS NOT NULL THEN (w_10 - mean_week) * (w_10 - mean_week) ELSE 0 END) END AS slope_per_week
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

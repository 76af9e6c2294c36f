-- growth_student: the growth row (growth.student_growth in reports/growth.py, whose names this
-- follows) of every student of the classroom units %(classroom_unit_ids)s: everyone enrolled at
-- some time during the unit, and anyone with a score in it. Where each skill's points go comes
-- from plan.sql (%(measure_ids)s and the arrays beside it), which places each unit's
-- assessments in trajectory order.
--
-- One pass over the scores: per student, the points earned and the max points of the skills
-- scored at each assessment, in whole hundredths, so a percentage divides two exact numbers
-- once, as Python's Decimal arithmetic does. A unit has at most 10 assessments (a pre, at most
-- 8 formative checkpoints, a post), hence ten sums (reports/growth_build checks the plans).
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
                %(measure_kinds)s::text[], %(measure_codes)s::text[], %(measure_maxima)s::int[])
        AS m(assessment_skill_id, unit_id, position, week, kind, code, max_points)
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
score AS (
    -- Each score where the plan puts it; points only when scored: absent and exempt skills
    -- count in neither the points earned nor the max points.
    SELECT sc.classroom_unit_id, sc.student_id, m.position,
           CASE WHEN sc.status = 'scored' THEN (sc.points * 100)::int END AS points,
           m.max_points
    FROM assessments_score sc
    JOIN measure m ON m.assessment_skill_id = sc.assessment_skill_id
    WHERE sc.classroom_unit_id = ANY(%(classroom_unit_ids)s::bigint[])
),
per_student AS (
    SELECT classroom_unit_id, student_id,
           sum(points) FILTER (WHERE position = 1) AS earned_1,
           sum(max_points) FILTER (WHERE position = 1 AND points IS NOT NULL) AS max_1,
           sum(points) FILTER (WHERE position = 2) AS earned_2,
           sum(max_points) FILTER (WHERE position = 2 AND points IS NOT NULL) AS max_2,
           sum(points) FILTER (WHERE position = 3) AS earned_3,
           sum(max_points) FILTER (WHERE position = 3 AND points IS NOT NULL) AS max_3,
           sum(points) FILTER (WHERE position = 4) AS earned_4,
           sum(max_points) FILTER (WHERE position = 4 AND points IS NOT NULL) AS max_4,
           sum(points) FILTER (WHERE position = 5) AS earned_5,
           sum(max_points) FILTER (WHERE position = 5 AND points IS NOT NULL) AS max_5,
           sum(points) FILTER (WHERE position = 6) AS earned_6,
           sum(max_points) FILTER (WHERE position = 6 AND points IS NOT NULL) AS max_6,
           sum(points) FILTER (WHERE position = 7) AS earned_7,
           sum(max_points) FILTER (WHERE position = 7 AND points IS NOT NULL) AS max_7,
           sum(points) FILTER (WHERE position = 8) AS earned_8,
           sum(max_points) FILTER (WHERE position = 8 AND points IS NOT NULL) AS max_8,
           sum(points) FILTER (WHERE position = 9) AS earned_9,
           sum(max_points) FILTER (WHERE position = 9 AND points IS NOT NULL) AS max_9,
           sum(points) FILTER (WHERE position = 10) AS earned_10,
           sum(max_points) FILTER (WHERE position = 10 AND points IS NOT NULL) AS max_10
    FROM score
    GROUP BY classroom_unit_id, student_id
),
enrolled AS (
    SELECT cu.classroom_unit_id, e.student_id
    FROM classroom_unit cu
    JOIN classrooms_enrollment e ON e.classroom_id = cu.classroom_id
    WHERE e.start_date <= cu.ends_on
      AND (e.end_date IS NULL OR e.end_date >= cu.start_date)
),
percentages AS (
    -- growth.assessment_percentage at every assessment of the plan, in trajectory order (NULL
    -- where nothing was scored).
    SELECT coalesce(s.classroom_unit_id, e.classroom_unit_id) AS classroom_unit_id,
           coalesce(s.student_id, e.student_id) AS student_id,
           (ARRAY[
               100.0::float8 * s.earned_1 / s.max_1,
               100.0::float8 * s.earned_2 / s.max_2,
               100.0::float8 * s.earned_3 / s.max_3,
               100.0::float8 * s.earned_4 / s.max_4,
               100.0::float8 * s.earned_5 / s.max_5,
               100.0::float8 * s.earned_6 / s.max_6,
               100.0::float8 * s.earned_7 / s.max_7,
               100.0::float8 * s.earned_8 / s.max_8,
               100.0::float8 * s.earned_9 / s.max_9,
               100.0::float8 * s.earned_10 / s.max_10
           ])[1:coalesce(cardinality(u.weeks), 0)] AS checkpoint_percentages,
           coalesce(u.weeks, '{}') AS checkpoint_weeks,
           u.pre_position, u.post_position
    FROM per_student s
    FULL JOIN enrolled e ON e.classroom_unit_id = s.classroom_unit_id
                        AND e.student_id = s.student_id
    JOIN classroom_unit cu
      ON cu.classroom_unit_id = coalesce(s.classroom_unit_id, e.classroom_unit_id)
    LEFT JOIN unit u ON u.unit_id = cu.unit_id
),
growth AS MATERIALIZED (
    -- Materialized: every column below is read several times.
    SELECT p.classroom_unit_id, p.student_id, p.checkpoint_weeks, p.checkpoint_percentages,
           p.checkpoint_percentages[p.pre_position] AS pre,
           p.checkpoint_percentages[p.post_position] AS post
    FROM percentages p
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
       -- growth.least_squares_slope of percentage on week over the assessments that have a
       -- percentage (none with fewer than two, or all in one week).
       (SELECT regr_slope(point.percentage, point.week)
        FROM unnest(g.checkpoint_percentages, g.checkpoint_weeks) AS point(percentage, week))
           AS slope_per_week,
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
       g.checkpoint_percentages
FROM growth g

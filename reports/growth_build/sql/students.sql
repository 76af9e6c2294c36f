-- growth_student: the growth row (growth.student_growth in reports/growth.py, whose names this
-- follows) of every student of the classroom units %(classroom_unit_ids)s: everyone enrolled at
-- some time during the unit, and anyone with a score in it.
--
-- Read in one pass over the scores (in parallel where PostgreSQL can): per student, the points
-- earned and the max points of the skills scored at each assessment, in whole hundredths, so the
-- percentage divides two exact numbers once, as Python's Decimal arithmetic does. A unit has at
-- most MAX_ASSESSMENTS = 10 assessments (a pre, at most 8 checkpoints, a post: the district cap
-- is at most 8), hence ten sums; reports/growth_build checks the plans before this runs.
CREATE TEMPORARY TABLE growth_student ON COMMIT DROP AS
WITH classroom_unit AS NOT MATERIALIZED (
    SELECT cu.id AS classroom_unit_id, cu.unit_id, cu.classroom_id, cu.start_date,
           cu.start_date + (u.weeks * 7 - 1) AS ends_on
    FROM units_classroomunit cu
    JOIN units_unit u ON u.id = cu.unit_id
    WHERE cu.id = ANY(%(classroom_unit_ids)s::bigint[])
),
assessment AS NOT MATERIALIZED (
    -- Every assessment of those units at its place in a trajectory
    -- (growth.checkpoint_trajectory): by week, the pre first and the post last within a week,
    -- then by title (as Python orders text: by code point) and id.
    SELECT a.id AS assessment_id, a.unit_id, a.kind, a.week,
           row_number() OVER (
               PARTITION BY a.unit_id
               ORDER BY a.week,
                        CASE a.kind WHEN 'pre' THEN 0 WHEN 'formative' THEN 1 ELSE 2 END,
                        a.title COLLATE "C",
                        a.id
           ) AS position
    FROM units_assessment a
    WHERE a.unit_id IN (SELECT unit_id FROM classroom_unit)
),
unit AS (
    SELECT unit_id,
           array_agg(week ORDER BY position) AS weeks,
           min(position) FILTER (WHERE kind = 'pre') AS pre_position,
           min(position) FILTER (WHERE kind = 'post') AS post_position
    FROM assessment
    GROUP BY unit_id
),
score AS (
    -- Each score at its assessment's position; points only when scored (absent and exempt skills
    -- count in neither the points earned nor the max points).
    SELECT sc.classroom_unit_id, sc.student_id, a.position,
           CASE WHEN sc.status = 'scored' THEN (sc.points * 100)::int END AS points,
           (m.max_points * 100)::int AS max_points
    FROM assessments_score sc
    JOIN units_assessmentskill m ON m.id = sc.assessment_skill_id
    JOIN assessment a ON a.assessment_id = m.assessment_id
    WHERE sc.classroom_unit_id = ANY(%(classroom_unit_ids)s::bigint[])
),
entered AS (
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
learner AS (
    -- growth.assessment_percentage at each assessment, in trajectory order (NULL where nothing
    -- was scored).
    SELECT coalesce(p.classroom_unit_id, e.classroom_unit_id) AS classroom_unit_id,
           coalesce(p.student_id, e.student_id) AS student_id,
           ARRAY[
               100.0::float8 * p.earned_1 / p.max_1,
               100.0::float8 * p.earned_2 / p.max_2,
               100.0::float8 * p.earned_3 / p.max_3,
               100.0::float8 * p.earned_4 / p.max_4,
               100.0::float8 * p.earned_5 / p.max_5,
               100.0::float8 * p.earned_6 / p.max_6,
               100.0::float8 * p.earned_7 / p.max_7,
               100.0::float8 * p.earned_8 / p.max_8,
               100.0::float8 * p.earned_9 / p.max_9,
               100.0::float8 * p.earned_10 / p.max_10
           ] AS percentages
    FROM entered p
    FULL JOIN enrolled e ON e.classroom_unit_id = p.classroom_unit_id
                        AND e.student_id = p.student_id
),
trajectory AS (
    SELECT l.classroom_unit_id, l.student_id,
           l.percentages[u.pre_position] AS pre,
           l.percentages[u.post_position] AS post,
           coalesce(u.weeks, '{}') AS checkpoint_weeks,
           l.percentages[1:coalesce(cardinality(u.weeks), 0)] AS checkpoint_percentages
    FROM learner l
    JOIN classroom_unit cu ON cu.classroom_unit_id = l.classroom_unit_id
    LEFT JOIN unit u ON u.unit_id = cu.unit_id
),
growth AS (
    SELECT t.*,
           t.post - t.pre AS gain,
           -- g: undefined at the ceiling (pre = 100), never a number there.
           CASE WHEN t.pre <> 100 THEN (t.post - t.pre) / (100 - t.pre) END AS normalized_gain,
           t.pre IS NOT NULL AND t.post IS NOT NULL AS is_complete
    FROM trajectory t
)
SELECT g.classroom_unit_id,
       g.student_id,
       g.pre AS pre_percentage,
       g.post AS post_percentage,
       g.gain,
       g.normalized_gain,
       coalesce(g.pre = 100, false) AS is_at_ceiling,
       -- Thresholds allow growth.BOUNDARY_TOLERANCE, as growth._reaches does.
       coalesce(g.pre >= %(little_room)s - %(tolerance)s, false) AS has_little_room_to_grow,
       -- growth.least_squares_slope of percentage on week over the assessments that have a
       -- percentage (NULL with fewer than two, or all in one week).
       (SELECT regr_slope(point.percentage, point.week)
        FROM unnest(g.checkpoint_percentages, g.checkpoint_weeks) AS point(percentage, week))
           AS slope_per_week,
       CASE WHEN g.is_complete
            THEN g.post >= %(proficiency_cut)s - %(tolerance)s
                 OR coalesce(g.normalized_gain >= %(growth_target)s - %(tolerance)s, false)
       END AS is_target_met,
       g.is_complete,
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

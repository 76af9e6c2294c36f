-- growth_student: the growth row (growth.student_growth in reports/growth.py, whose names this
-- follows) of every student of the classroom units %(classroom_unit_ids)s: everyone enrolled
-- at some time during the unit, and anyone with a score in it. The plan comes from
-- growth_assessment, growth_measure and growth_unit (plan_*.sql).
CREATE TEMPORARY TABLE growth_student ON COMMIT DROP AS
WITH classroom_unit AS (
    SELECT cu.id AS classroom_unit_id, cu.unit_id, cu.classroom_id, cu.start_date,
           cu.start_date + (u.weeks * 7 - 1) AS ends_on
    FROM units_classroomunit cu
    JOIN units_unit u ON u.id = cu.unit_id
    WHERE cu.id = ANY(%(classroom_unit_ids)s)
),
score AS (
    -- Each score where the plan puts it; points only when scored: absent and exempt skills
    -- count in neither the points earned nor the max points.
    SELECT sc.classroom_unit_id, sc.student_id, sc.assessment_skill_id, m.position,
           CASE WHEN sc.status = 'scored' THEN sc.points END AS points, m.max_points
    FROM assessments_score sc
    JOIN growth_measure m ON m.assessment_skill_id = sc.assessment_skill_id
    WHERE sc.classroom_unit_id = ANY(%(classroom_unit_ids)s)
),
assessment_percentage AS (
    -- growth.assessment_percentage: points earned / max points of the skills actually scored
    -- × 100; NULL when nothing was scored. Both sums are whole numbers of hundredths, exact in
    -- float8, so the division rounds once, as Python's does.
    SELECT classroom_unit_id, student_id, position,
           (sum(points) * 10000)::float8
           / (sum(max_points) FILTER (WHERE points IS NOT NULL) * 100)::float8 AS percentage
    FROM score
    GROUP BY classroom_unit_id, student_id, position
),
learner AS (
    SELECT cu.classroom_unit_id, cu.unit_id, e.student_id
    FROM classroom_unit cu
    JOIN classrooms_enrollment e ON e.classroom_id = cu.classroom_id
    WHERE e.start_date <= cu.ends_on
      AND (e.end_date IS NULL OR e.end_date >= cu.start_date)
    UNION
    SELECT p.classroom_unit_id, cu.unit_id, p.student_id
    FROM assessment_percentage p
    JOIN classroom_unit cu USING (classroom_unit_id)
),
trajectory AS (
    -- The learner's percentage at every assessment of the plan (NULL where nothing was
    -- scored), in trajectory order; the pre and post percentages; and growth.least_squares_slope of
    -- percentage on week over the assessments that have one (NULL with fewer than two weeks).
    SELECT l.classroom_unit_id, l.student_id, l.unit_id,
           coalesce(array_agg(p.percentage ORDER BY a.position)
                    FILTER (WHERE a.position IS NOT NULL), '{}') AS checkpoint_percentages,
           min(p.percentage) FILTER (WHERE a.kind = 'pre') AS pre,
           min(p.percentage) FILTER (WHERE a.kind = 'post') AS post,
           regr_slope(p.percentage, a.week ORDER BY a.position) AS slope_per_week
    FROM learner l
    LEFT JOIN growth_assessment a ON a.unit_id = l.unit_id
    LEFT JOIN assessment_percentage p ON p.classroom_unit_id = l.classroom_unit_id
                                     AND p.student_id = l.student_id
                                     AND p.position = a.position
    GROUP BY l.classroom_unit_id, l.student_id, l.unit_id
),
skill_slot AS (
    -- For the pre and the post of each unit, a place for every code either of them measures
    -- (growth_unit.codes), with the skill when that assessment measures it.
    SELECT a.unit_id, a.kind, code.skill_index, m.assessment_skill_id, m.max_points
    FROM growth_assessment a
    JOIN growth_unit u ON u.unit_id = a.unit_id
    CROSS JOIN LATERAL unnest(u.codes) WITH ORDINALITY AS code(code, skill_index)
    LEFT JOIN growth_measure m ON m.position = a.position AND m.unit_id = a.unit_id
                              AND m.code = code.code
    WHERE a.kind <> 'formative'
),
skill_percentages AS (
    -- growth.skill_percentage of each of those codes at the pre and at the post; NULL where
    -- absent, exempt, not entered, or not measured by that assessment.
    SELECT l.classroom_unit_id, l.student_id,
           array_agg((s.points * 10000)::float8 / (slot.max_points * 100)::float8
                     ORDER BY slot.skill_index) FILTER (WHERE slot.kind = 'pre') AS pre_skills,
           array_agg((s.points * 10000)::float8 / (slot.max_points * 100)::float8
                     ORDER BY slot.skill_index) FILTER (WHERE slot.kind = 'post') AS post_skills
    FROM learner l
    JOIN skill_slot slot ON slot.unit_id = l.unit_id
    LEFT JOIN score s ON s.classroom_unit_id = l.classroom_unit_id
                     AND s.student_id = l.student_id
                     AND s.assessment_skill_id = slot.assessment_skill_id
    GROUP BY l.classroom_unit_id, l.student_id
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
       g.unit_id,
       g.pre AS pre_percentage,
       g.post AS post_percentage,
       g.gain,
       g.normalized_gain,
       coalesce(g.pre = 100, false) AS is_at_ceiling,
       -- Thresholds allow growth.BOUNDARY_TOLERANCE, as growth._reaches does.
       coalesce(g.pre >= %(little_room)s - %(tolerance)s, false) AS has_little_room_to_grow,
       g.slope_per_week,
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
       u.codes AS skill_codes,
       coalesce(k.pre_skills, '{}') AS pre_skills,
       coalesce(k.post_skills, '{}') AS post_skills,
       u.weeks AS checkpoint_weeks,
       g.checkpoint_percentages
FROM growth g
JOIN growth_unit u ON u.unit_id = g.unit_id
LEFT JOIN skill_percentages k ON k.classroom_unit_id = g.classroom_unit_id
                             AND k.student_id = g.student_id

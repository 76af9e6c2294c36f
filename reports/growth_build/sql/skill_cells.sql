-- growth_skill_cell: per skill, the students of each cell (as growth_cell has them) scored on
-- that skill at both the pre and the post (so complete), with their mean percentages there
-- (growth._skill_means), read from the scores: a skill's percentage is a score's points over
-- its max points. That max is the same for every student of a unit, and a cell is within one
-- unit, so a mean is 100 × points / (students × max points), from exact integer sums of
-- hundredths (the plan from plan.sql).
CREATE TEMPORARY TABLE growth_skill_cell ON COMMIT DROP AS
WITH classroom_unit AS (
    SELECT cu.id AS classroom_unit_id, cu.unit_id, c.school_id
    FROM units_classroomunit cu
    JOIN classrooms_classroom c ON c.id = cu.classroom_id
    JOIN classrooms_school s ON s.id = c.school_id
    WHERE s.district_id = %(district_id)s
      AND cu.unit_id = ANY(%(unit_ids)s::bigint[])
),
measure AS (
    SELECT *
    FROM unnest(%(measure_ids)s::bigint[], %(measure_units)s::bigint[],
                %(measure_kinds)s::text[], %(measure_codes)s::text[], %(measure_maxima)s::int[])
        AS m(assessment_skill_id, unit_id, kind, code, max_points)
    WHERE kind <> 'formative'
),
skill AS (
    -- A student's points (hundredths) on one skill at the pre and at the post.
    SELECT sc.classroom_unit_id, sc.student_id, m.code,
           min((sc.points * 100)::int) FILTER (WHERE m.kind = 'pre') AS pre_points,
           min(m.max_points) FILTER (WHERE m.kind = 'pre') AS pre_max,
           min((sc.points * 100)::int) FILTER (WHERE m.kind = 'post') AS post_points,
           min(m.max_points) FILTER (WHERE m.kind = 'post') AS post_max
    FROM assessments_score sc
    JOIN measure m ON m.assessment_skill_id = sc.assessment_skill_id
    WHERE sc.classroom_unit_id IN (SELECT classroom_unit_id FROM classroom_unit)
      AND sc.status = 'scored'
    GROUP BY sc.classroom_unit_id, sc.student_id, m.code
),
membership AS (
    SELECT student_id, array_agg(studentgroup_id) AS group_ids
    FROM classrooms_student_groups
    WHERE studentgroup_id = ANY(%(group_ids)s::bigint[])
    GROUP BY student_id
),
partial AS (
    -- The students of a classroom unit who are in the same student groups, per skill.
    SELECT cu.unit_id, cu.school_id, s.classroom_unit_id,
           coalesce(m.group_ids, '{}') AS group_ids, s.code, count(*) AS n,
           sum(s.pre_points) AS pre_points, min(s.pre_max) AS pre_max,
           sum(s.post_points) AS post_points, min(s.post_max) AS post_max
    FROM skill s
    JOIN classroom_unit cu ON cu.classroom_unit_id = s.classroom_unit_id
    LEFT JOIN membership m ON m.student_id = s.student_id
    WHERE s.pre_points IS NOT NULL
      AND s.post_points IS NOT NULL
    GROUP BY cu.unit_id, cu.school_id, s.classroom_unit_id, coalesce(m.group_ids, '{}'), s.code
),
part AS (
    SELECT p.*, NULL::bigint AS student_group_id, 'all' AS part
    FROM partial p
    UNION ALL
    SELECT p.*, g.id, CASE WHEN g.id = ANY(p.group_ids) THEN 'group' ELSE 'rest' END
    FROM partial p
    CROSS JOIN unnest(%(group_ids)s::bigint[]) AS g(id)
),
classroom_unit_cell AS (
    SELECT unit_id, school_id, classroom_unit_id, student_group_id, part, code,
           sum(n)::int AS n, sum(pre_points) AS pre_points, min(pre_max) AS pre_max,
           sum(post_points) AS post_points, min(post_max) AS post_max
    FROM part
    GROUP BY unit_id, school_id, classroom_unit_id, student_group_id, part, code
),
school_cell AS (
    SELECT unit_id, school_id, student_group_id, part, code,
           sum(n)::int AS n, sum(pre_points) AS pre_points, min(pre_max) AS pre_max,
           sum(post_points) AS post_points, min(post_max) AS post_max
    FROM classroom_unit_cell
    GROUP BY unit_id, school_id, student_group_id, part, code
),
cell AS (
    SELECT 'classroom_unit' AS level, unit_id, classroom_unit_id AS node_id, student_group_id,
           part, code, n, pre_points, pre_max, post_points, post_max
    FROM classroom_unit_cell
    UNION ALL
    SELECT 'school', unit_id, school_id, student_group_id, part, code, n, pre_points, pre_max,
           post_points, post_max
    FROM school_cell
    UNION ALL
    SELECT 'district', unit_id, %(district_id)s::bigint, student_group_id, part, code,
           sum(n)::int, sum(pre_points), min(pre_max), sum(post_points), min(post_max)
    FROM school_cell
    GROUP BY unit_id, student_group_id, part, code
)
SELECT level, unit_id, node_id, student_group_id, part, code, n,
       (100.0 * pre_points / (n * pre_max))::float8 AS mean_pre,
       (100.0 * post_points / (n * post_max))::float8 AS mean_post
FROM cell

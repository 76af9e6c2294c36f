-- growth_skill_cell: per skill, the complete students of each cell (as growth_cell has them)
-- scored on that skill at both the pre and the post, and the exact sums of their percentages
-- on it there (growth.skill_percentage, growth._skill_means), read from the scores: a skill's
-- percentage is one score's points over its max points.
CREATE TEMPORARY TABLE growth_skill_cell ON COMMIT DROP AS
WITH membership AS (
    SELECT student_id, array_agg(studentgroup_id) AS group_ids
    FROM classrooms_student_groups
    WHERE studentgroup_id = ANY(%(group_ids)s::bigint[])
    GROUP BY student_id
),
skill_score AS (
    SELECT n.unit_id, n.school_id, sc.classroom_unit_id, sc.student_id, s.code, a.kind,
           (100.0::float8 * (sc.points * 100)::int / (m.max_points * 100)::int)::numeric
               AS percentage
    FROM growth_node n
    JOIN assessments_score sc ON sc.classroom_unit_id = n.classroom_unit_id
    JOIN units_assessmentskill m ON m.id = sc.assessment_skill_id
    JOIN units_assessment a ON a.id = m.assessment_id
    JOIN units_skill s ON s.id = m.skill_id
    WHERE n.level = 'classroom_unit'
      AND a.kind <> 'formative'
      AND sc.status = 'scored'
),
skill AS (
    -- A complete student's percentages on one skill at the pre and at the post.
    SELECT k.unit_id, k.school_id, k.classroom_unit_id, k.student_id, k.code,
           min(k.percentage) FILTER (WHERE k.kind = 'pre') AS pre,
           min(k.percentage) FILTER (WHERE k.kind = 'post') AS post
    FROM skill_score k
    JOIN reports_studentgrowth sg ON sg.classroom_unit_id = k.classroom_unit_id
                                 AND sg.student_id = k.student_id
    WHERE sg.is_complete
    GROUP BY k.unit_id, k.school_id, k.classroom_unit_id, k.student_id, k.code
),
partial AS (
    SELECT s.unit_id, s.school_id, s.classroom_unit_id, coalesce(m.group_ids, '{}') AS group_ids,
           s.code, count(*) AS n, sum(s.pre) AS pre_sum, sum(s.post) AS post_sum
    FROM skill s
    LEFT JOIN membership m ON m.student_id = s.student_id
    WHERE s.pre IS NOT NULL AND s.post IS NOT NULL
    GROUP BY s.unit_id, s.school_id, s.classroom_unit_id, coalesce(m.group_ids, '{}'), s.code
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
           sum(n)::int AS n, sum(pre_sum) AS pre_sum, sum(post_sum) AS post_sum
    FROM part
    GROUP BY unit_id, school_id, classroom_unit_id, student_group_id, part, code
),
school_cell AS (
    SELECT unit_id, school_id, student_group_id, part, code,
           sum(n)::int AS n, sum(pre_sum) AS pre_sum, sum(post_sum) AS post_sum
    FROM classroom_unit_cell
    GROUP BY unit_id, school_id, student_group_id, part, code
)
SELECT 'classroom_unit' AS level, unit_id, classroom_unit_id AS node_id, student_group_id,
       part, code, n, pre_sum, post_sum
FROM classroom_unit_cell
UNION ALL
SELECT 'school', unit_id, school_id, student_group_id, part, code, n, pre_sum, post_sum
FROM school_cell
UNION ALL
SELECT 'district', unit_id, %(district_id)s::bigint, student_group_id, part, code,
       sum(n)::int, sum(pre_sum), sum(post_sum)
FROM school_cell
GROUP BY unit_id, student_group_id, part, code

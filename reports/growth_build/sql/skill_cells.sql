-- growth_skill_cell: per skill, the students of each cell (as growth_cell has them) with that
-- skill's percentage at both the pre and the post, and the exact sums of those percentages
-- (growth._skill_means). Only complete students count.
CREATE TEMPORARY TABLE growth_skill_cell ON COMMIT DROP AS
WITH membership AS (
    SELECT student_id, array_agg(studentgroup_id) AS group_ids
    FROM classrooms_student_groups
    WHERE studentgroup_id = ANY(%(group_ids)s)
    GROUP BY student_id
),
skill AS (
    SELECT n.unit_id, n.school_id, sg.classroom_unit_id,
           coalesce(m.group_ids, '{}') AS group_ids,
           s.code, s.pre::numeric AS pre, s.post::numeric AS post
    FROM reports_studentgrowth sg
    JOIN growth_node n ON n.level = 'classroom_unit'
                      AND n.classroom_unit_id = sg.classroom_unit_id
    CROSS JOIN LATERAL unnest(sg.skill_codes, sg.pre_skills, sg.post_skills) AS s(code, pre, post)
    LEFT JOIN membership m ON m.student_id = sg.student_id
    WHERE sg.is_complete
      AND s.pre IS NOT NULL
      AND s.post IS NOT NULL
),
partial AS (
    SELECT unit_id, school_id, classroom_unit_id, group_ids, code,
           count(*) AS n, sum(pre) AS pre_sum, sum(post) AS post_sum
    FROM skill
    GROUP BY unit_id, school_id, classroom_unit_id, group_ids, code
),
part AS (
    SELECT p.*, NULL::bigint AS student_group_id, 'all' AS part
    FROM partial p
    UNION ALL
    SELECT p.*, g.id, CASE WHEN g.id = ANY(p.group_ids) THEN 'group' ELSE 'rest' END
    FROM partial p
    CROSS JOIN unnest(%(group_ids)s::bigint[]) AS g(id)
)
SELECT CASE GROUPING(school_id, classroom_unit_id)
            WHEN 0 THEN 'classroom_unit' WHEN 1 THEN 'school' ELSE 'district' END AS level,
       unit_id,
       coalesce(classroom_unit_id, school_id, %(district_id)s::bigint) AS node_id,
       student_group_id, part, code,
       sum(n)::int AS n, sum(pre_sum) AS pre_sum, sum(post_sum) AS post_sum
FROM part
GROUP BY GROUPING SETS (
    (unit_id, school_id, classroom_unit_id, student_group_id, part, code),
    (unit_id, school_id, student_group_id, part, code),
    (unit_id, student_group_id, part, code)
)

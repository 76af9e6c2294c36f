-- The plan of the units %(unit_ids)s as the next statements read it, one array each (so the
-- statements over the scores can join it in parallel workers, which temporary tables forbid).
-- For every skill an assessment measures: its id; its unit; its assessment's position in a
-- trajectory (growth.checkpoint_trajectory: by week, the pre first and the post last within a
-- week, then by title as Python orders text, by code point, then by id) and week; the
-- assessment's kind; the skill's code, and at the pre and the post its index among the codes
-- the unit's pre or post measures (in code order), which orders the per-skill arrays of a
-- student row; and its max points in whole hundredths. With the most assessments and skills a
-- unit has, which size the student statement (students.sql).
WITH assessment AS (
    SELECT a.id, a.unit_id, a.kind, a.week,
           row_number() OVER (
               PARTITION BY a.unit_id
               ORDER BY a.week,
                        CASE a.kind WHEN 'pre' THEN 0 WHEN 'formative' THEN 1 ELSE 2 END,
                        a.title COLLATE "C",
                        a.id
           ) AS position
    FROM units_assessment a
    WHERE a.unit_id = ANY(%(unit_ids)s::bigint[])
),
measure AS (
    SELECT m.id, a.unit_id, a.position, a.week, a.kind, s.code,
           (m.max_points * 100)::int AS max_points
    FROM units_assessmentskill m
    JOIN assessment a ON a.id = m.assessment_id
    JOIN units_skill s ON s.id = m.skill_id
),
skill AS (
    SELECT unit_id, code, row_number() OVER (PARTITION BY unit_id ORDER BY code COLLATE "C")
               AS skill_index
    FROM (SELECT DISTINCT unit_id, code FROM measure WHERE kind <> 'formative') codes
)
SELECT coalesce(array_agg(m.id ORDER BY m.id), '{}') AS measure_ids,
       coalesce(array_agg(m.unit_id ORDER BY m.id), '{}') AS measure_units,
       coalesce(array_agg(m.position ORDER BY m.id), '{}') AS measure_positions,
       coalesce(array_agg(m.week ORDER BY m.id), '{}') AS measure_weeks,
       coalesce(array_agg(m.kind ORDER BY m.id), '{}') AS measure_kinds,
       coalesce(array_agg(m.code ORDER BY m.id), '{}') AS measure_codes,
       coalesce(array_agg(s.skill_index ORDER BY m.id), '{}') AS measure_skill_indexes,
       coalesce(array_agg(m.max_points ORDER BY m.id), '{}') AS measure_maxima,
       coalesce(max(m.position), 0) AS most_assessments,
       coalesce(max(s.skill_index), 0) AS most_skills
FROM measure m
LEFT JOIN skill s ON s.unit_id = m.unit_id AND s.code = m.code AND m.kind <> 'formative'

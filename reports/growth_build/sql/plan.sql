-- The plan of the units %(unit_ids)s as the next statements read it, one array each (so the
-- statements over the scores can join it in parallel workers, which temporary tables forbid):
-- for every skill an assessment measures, its id, its unit, its assessment's position in a
-- trajectory (growth.checkpoint_trajectory: by week, the pre first and the post last within a
-- week, then by title as Python orders text, by code point, then by id) and week, the
-- assessment's kind, the skill's code and its max points in whole hundredths.
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
)
SELECT coalesce(array_agg(m.id ORDER BY m.id), '{}') AS measure_ids,
       coalesce(array_agg(a.position ORDER BY m.id), '{}') AS measure_positions,
       coalesce(array_agg(a.week ORDER BY m.id), '{}') AS measure_weeks,
       coalesce(array_agg(a.kind ORDER BY m.id), '{}') AS measure_kinds,
       coalesce(array_agg(a.unit_id ORDER BY m.id), '{}') AS measure_units,
       coalesce(array_agg(s.code ORDER BY m.id), '{}') AS measure_codes,
       coalesce(array_agg((m.max_points * 100)::int ORDER BY m.id), '{}') AS measure_maxima,
       coalesce(max(a.position), 0) AS most_assessments
FROM units_assessmentskill m
JOIN assessment a ON a.id = m.assessment_id
JOIN units_skill s ON s.id = m.skill_id

-- growth_assessment: every assessment of the units %(unit_ids)s at its place in a student's
-- trajectory (growth.checkpoint_trajectory): by week, the pre first and the post last within a
-- week, then by title (as Python orders text: by code point) and id.
CREATE TEMPORARY TABLE growth_assessment ON COMMIT DROP AS
SELECT a.unit_id,
       a.id AS assessment_id,
       a.kind,
       a.week,
       row_number() OVER (
           PARTITION BY a.unit_id
           ORDER BY a.week,
                    CASE a.kind WHEN 'pre' THEN 0 WHEN 'formative' THEN 1 ELSE 2 END,
                    a.title COLLATE "C",
                    a.id
       ) AS position
FROM units_assessment a
WHERE a.unit_id = ANY(%(unit_ids)s)

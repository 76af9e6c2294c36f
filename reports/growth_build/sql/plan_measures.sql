-- growth_measure: every skill an assessment of the units %(unit_ids)s measures, with its max
-- points and where its points go in a student row: the assessment's position, and for the pre
-- and the post the skill's index among the codes the unit's pre or post measures (in code
-- order, as Python sorts text), which orders the per-skill arrays of a student row.
CREATE TEMPORARY TABLE growth_measure ON COMMIT DROP AS
WITH measure AS (
    SELECT m.id AS assessment_skill_id, a.unit_id, a.position, a.kind, a.week, s.code,
           m.max_points
    FROM units_assessmentskill m
    JOIN growth_assessment a ON a.assessment_id = m.assessment_id
    JOIN units_skill s ON s.id = m.skill_id
),
pre_and_post_code AS (
    SELECT unit_id, code,
           row_number() OVER (PARTITION BY unit_id ORDER BY code COLLATE "C") AS skill_index
    FROM (SELECT DISTINCT unit_id, code FROM measure WHERE kind <> 'formative') codes
)
SELECT m.assessment_skill_id, m.unit_id, m.position, m.kind, m.week, m.code, m.max_points,
       c.skill_index
FROM measure m
LEFT JOIN pre_and_post_code c ON c.unit_id = m.unit_id AND c.code = m.code
                             AND m.kind <> 'formative'

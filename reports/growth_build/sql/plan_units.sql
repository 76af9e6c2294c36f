-- growth_unit: per unit of %(unit_ids)s, what every student row of it carries as is: the weeks
-- of its assessments in trajectory order and the codes its pre and post measure, in code
-- order (both empty for a unit without a plan yet).
CREATE TEMPORARY TABLE growth_unit ON COMMIT DROP AS
SELECT u.id AS unit_id,
       coalesce((SELECT array_agg(a.week ORDER BY a.position)
                 FROM growth_assessment a WHERE a.unit_id = u.id), '{}') AS weeks,
       coalesce((SELECT array_agg(c.code ORDER BY c.skill_index)
                 FROM (SELECT DISTINCT code, skill_index FROM growth_measure
                       WHERE unit_id = u.id AND skill_index IS NOT NULL) c), '{}') AS codes
FROM units_unit u
WHERE u.id = ANY(%(unit_ids)s)

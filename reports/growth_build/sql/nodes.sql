-- growth_node: every node whose summary rows are built: each classroom unit of the units
-- %(unit_ids)s in district %(district_id)s, each school × unit teaching them, and the
-- district × unit. ``level`` names the summary table (classroom_unit, school, district);
-- ``node_id`` is the classroom unit's, the school's or the district's id.
CREATE TEMPORARY TABLE growth_node ON COMMIT DROP AS
WITH classroom_unit AS (
    SELECT cu.id AS classroom_unit_id, cu.unit_id, c.school_id
    FROM units_classroomunit cu
    JOIN classrooms_classroom c ON c.id = cu.classroom_id
    JOIN classrooms_school s ON s.id = c.school_id
    WHERE s.district_id = %(district_id)s
      AND cu.unit_id = ANY(%(unit_ids)s::bigint[])
)
SELECT 'classroom_unit' AS level, unit_id, classroom_unit_id AS node_id, school_id,
       classroom_unit_id
FROM classroom_unit
UNION ALL
SELECT DISTINCT 'school', unit_id, school_id, school_id, NULL::bigint
FROM classroom_unit
UNION ALL
SELECT DISTINCT 'district', unit_id, %(district_id)s::bigint, NULL::bigint, NULL::bigint
FROM classroom_unit

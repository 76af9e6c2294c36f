-- growth_unit_digest: for each unit of %(unit_ids)s in district %(district_id)s, a digest of
-- everything its summary rows are built from: the digests of its classroom units' stored cells
-- (what their student rows and student groups were when they were added up), its classroom
-- units and their schools, and %(definition)s (the statements, the suppression rules and the
-- settings).
-- A unit whose digest is the one its district row of everyone was written with
-- (``is_changed`` false) has nothing to build: none of its summary rows can differ. NULL for a
-- unit no classroom unit teaches; ``stored_rows`` counts its summary rows as they are.
CREATE TEMPORARY TABLE growth_unit_digest ON COMMIT DROP AS
WITH classroom_unit AS (
    SELECT cu.id AS classroom_unit_id, cu.unit_id, c.school_id
    FROM units_classroomunit cu
    JOIN classrooms_classroom c ON c.id = cu.classroom_id
    JOIN classrooms_school s ON s.id = c.school_id
    WHERE s.district_id = %(district_id)s
      AND cu.unit_id = ANY(%(unit_ids)s::bigint[])
),
class AS (
    -- The classroom units' own digests (class_digests.sql), as 64-bit numbers added up: the
    -- same cells give the same sum in any order.
    SELECT cu.unit_id,
           sum(('x' || substr(c.inputs_digest, 1, 16))::bit(64)::bigint) AS classes
    FROM classroom_unit cu
    JOIN reports_classroomunitgrowthcell c
      ON c.classroom_unit_id = cu.classroom_unit_id AND c.part = 'all'
    GROUP BY cu.unit_id
),
node AS (
    SELECT unit_id, sum(hash_record_extended(cu, 0)) AS classroom_units,
           array_agg(classroom_unit_id) AS classroom_unit_ids
    FROM classroom_unit cu
    GROUP BY unit_id
),
stored AS (
    SELECT unit_id, inputs_digest
    FROM reports_districtunitgrowthsummary
    WHERE district_id = %(district_id)s
      AND unit_id = ANY(%(unit_ids)s::bigint[])
      AND part = 'all'
),
digest AS (
    SELECT u.unit_id,
           CASE WHEN n.unit_id IS NOT NULL
                THEN md5(concat_ws('|', %(definition)s, n.classroom_units, c.classes))
           END AS digest,
           n.classroom_unit_ids
    FROM unnest(%(unit_ids)s::bigint[]) AS u(unit_id)
    LEFT JOIN node n ON n.unit_id = u.unit_id
    LEFT JOIN class c ON c.unit_id = u.unit_id
)
SELECT d.unit_id, d.digest,
       d.digest IS DISTINCT FROM st.inputs_digest AS is_changed,
       (SELECT count(*) FROM reports_classroomunitgrowthsummary r
        WHERE r.classroom_unit_id = ANY(d.classroom_unit_ids))
     + (SELECT count(*) FROM reports_schoolunitgrowthsummary r
        WHERE r.unit_id = d.unit_id
          AND r.school_id IN (SELECT id FROM classrooms_school
                              WHERE district_id = %(district_id)s))
     + (SELECT count(*) FROM reports_districtunitgrowthsummary r
        WHERE r.unit_id = d.unit_id AND r.district_id = %(district_id)s) AS stored_rows
FROM digest d
LEFT JOIN stored st ON st.unit_id = d.unit_id

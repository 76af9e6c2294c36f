-- growth_unit_digest: for each unit of %(unit_ids)s in district %(district_id)s, a digest of
-- everything its summary rows are built from: the stored student rows of its classroom units
-- (what cells.sql reads of them) with their students' student groups, its classroom units and
-- their schools, and %(definition)s (the statements, the suppression rules and the settings).
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
membership AS (
    SELECT student_id, array_agg(studentgroup_id ORDER BY studentgroup_id) AS group_ids
    FROM classrooms_student_groups
    WHERE studentgroup_id = ANY(%(group_ids)s::bigint[])
    GROUP BY student_id
),
student AS (
    -- 64-bit hashes of rows, added up: the same rows give the same sum in any order.
    SELECT cu.unit_id,
           sum(hash_record_extended(ROW(
               sg.classroom_unit_id, sg.student_id, m.group_ids, sg.is_complete,
               sg.pre_percentage, sg.post_percentage, sg.gain, sg.normalized_gain,
               sg.is_at_ceiling, sg.has_little_room_to_grow, sg.is_target_met, sg.pre_band,
               sg.post_band, sg.skill_codes, sg.pre_skill_points, sg.post_skill_points
           ), 0)) AS students
    FROM reports_studentgrowth sg
    JOIN classroom_unit cu ON cu.classroom_unit_id = sg.classroom_unit_id
    LEFT JOIN membership m ON m.student_id = sg.student_id
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
                THEN md5(concat_ws('|', %(definition)s, n.classroom_units, s.students))
           END AS digest,
           n.classroom_unit_ids
    FROM unnest(%(unit_ids)s::bigint[]) AS u(unit_id)
    LEFT JOIN node n ON n.unit_id = u.unit_id
    LEFT JOIN student s ON s.unit_id = u.unit_id
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

-- growth_class_digest: for each classroom unit of %(classroom_unit_ids)s, a digest of what its
-- cells are added up from (its stored student rows as cells.sql reads them, with their
-- students' student groups, and %(definition)s: the statements, rules and settings), and
-- whether it differs from the digest its stored cells were added up with
-- (reports_classroomunitgrowthcell, row of everyone). Only changed classroom units' cells are
-- added up again (class_cells.sql).
CREATE TEMPORARY TABLE growth_class_digest ON COMMIT DROP AS
WITH membership AS (
    SELECT student_id, array_agg(studentgroup_id ORDER BY studentgroup_id) AS group_ids
    FROM classrooms_student_groups
    WHERE studentgroup_id = ANY(%(group_ids)s::bigint[])
      AND student_id IN (SELECT student_id FROM reports_studentgrowth
                         WHERE classroom_unit_id = ANY(%(classroom_unit_ids)s::bigint[]))
    GROUP BY student_id
),
student AS (
    -- 64-bit hashes of rows, added up: the same rows give the same sum in any order.
    SELECT sg.classroom_unit_id,
           sum(hash_record_extended(ROW(
               sg.student_id, m.group_ids, sg.is_complete, sg.pre_percentage,
               sg.post_percentage, sg.gain, sg.normalized_gain, sg.is_at_ceiling,
               sg.has_little_room_to_grow, sg.is_target_met, sg.pre_band, sg.post_band,
               sg.pre_skill_points, sg.post_skill_points
           ), 0)) AS students
    FROM reports_studentgrowth sg
    LEFT JOIN membership m ON m.student_id = sg.student_id
    WHERE sg.classroom_unit_id = ANY(%(classroom_unit_ids)s::bigint[])
    GROUP BY sg.classroom_unit_id
),
digest AS (
    SELECT scope.classroom_unit_id,
           md5(concat_ws('|', %(definition)s, s.students)) AS digest
    FROM unnest(%(classroom_unit_ids)s::bigint[]) AS scope(classroom_unit_id)
    LEFT JOIN student s ON s.classroom_unit_id = scope.classroom_unit_id
)
SELECT d.classroom_unit_id, d.digest,
       d.digest IS DISTINCT FROM c.inputs_digest AS is_changed
FROM digest d
LEFT JOIN reports_classroomunitgrowthcell c
       ON c.classroom_unit_id = d.classroom_unit_id AND c.part = 'all'

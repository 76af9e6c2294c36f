-- Store growth_class_cell as the cells of its classroom units: each row inserted or replaced,
-- and the cells of those classroom units that are no longer added up (nobody left in a part)
-- deleted. Returns how many rows it wrote.
WITH deleted AS (
    DELETE FROM reports_classroomunitgrowthcell s
    USING growth_class_digest d
    WHERE d.is_changed AND s.classroom_unit_id = d.classroom_unit_id
      AND NOT EXISTS (SELECT 1 FROM growth_class_cell c
                      WHERE c.classroom_unit_id = s.classroom_unit_id
                        AND c.student_group_id IS NOT DISTINCT FROM s.student_group_id
                        AND c.part = s.part)
    RETURNING 1
),
written AS (
    INSERT INTO reports_classroomunitgrowthcell (
        classroom_unit_id, student_group_id, part, incomplete, n, pre_sum, pre_squares,
        post_sum, post_squares, gain_sum, gain_squares, g_count, g_sum, at_ceiling,
        little_room, target_met, beginning_beginning, beginning_developing,
        beginning_proficient, developing_beginning, developing_developing,
        developing_proficient, proficient_beginning, proficient_developing,
        proficient_proficient, skill_counts, skill_pre_points, skill_post_points, inputs_digest
    )
    SELECT classroom_unit_id, student_group_id, part, incomplete, n, pre_sum, pre_squares,
           post_sum, post_squares, gain_sum, gain_squares, g_count, g_sum, at_ceiling,
           little_room, target_met, beginning_beginning, beginning_developing,
           beginning_proficient, developing_beginning, developing_developing,
           developing_proficient, proficient_beginning, proficient_developing,
           proficient_proficient, skill_counts, skill_pre_points, skill_post_points,
           inputs_digest
    FROM growth_class_cell
    ON CONFLICT (classroom_unit_id, student_group_id, part) DO UPDATE
    SET incomplete = EXCLUDED.incomplete,
        n = EXCLUDED.n,
        pre_sum = EXCLUDED.pre_sum,
        pre_squares = EXCLUDED.pre_squares,
        post_sum = EXCLUDED.post_sum,
        post_squares = EXCLUDED.post_squares,
        gain_sum = EXCLUDED.gain_sum,
        gain_squares = EXCLUDED.gain_squares,
        g_count = EXCLUDED.g_count,
        g_sum = EXCLUDED.g_sum,
        at_ceiling = EXCLUDED.at_ceiling,
        little_room = EXCLUDED.little_room,
        target_met = EXCLUDED.target_met,
        beginning_beginning = EXCLUDED.beginning_beginning,
        beginning_developing = EXCLUDED.beginning_developing,
        beginning_proficient = EXCLUDED.beginning_proficient,
        developing_beginning = EXCLUDED.developing_beginning,
        developing_developing = EXCLUDED.developing_developing,
        developing_proficient = EXCLUDED.developing_proficient,
        proficient_beginning = EXCLUDED.proficient_beginning,
        proficient_developing = EXCLUDED.proficient_developing,
        proficient_proficient = EXCLUDED.proficient_proficient,
        skill_counts = EXCLUDED.skill_counts,
        skill_pre_points = EXCLUDED.skill_pre_points,
        skill_post_points = EXCLUDED.skill_post_points,
        inputs_digest = EXCLUDED.inputs_digest
    RETURNING 1
)
SELECT (SELECT count(*) FROM deleted) + (SELECT count(*) FROM written)

-- Store growth_student as the student rows of the classroom units %(classroom_unit_ids)s,
-- writing only what differs: rows whose numbers changed are updated, new students' rows
-- inserted, rows of students no longer in the unit deleted. A rebuild over unchanged scores
-- computes the same values (every number follows from one student's scores alone) and writes
-- nothing. Returns how many rows it wrote.
WITH old AS (
    SELECT *
    FROM reports_studentgrowth
    WHERE classroom_unit_id = ANY(%(classroom_unit_ids)s::bigint[])
),
diff AS MATERIALIZED (
    SELECT new.*, old.classroom_unit_id AS old_classroom_unit_id,
           old.student_id AS old_student_id
    FROM growth_student new
    FULL JOIN old ON old.classroom_unit_id = new.classroom_unit_id
                 AND old.student_id = new.student_id
    WHERE old.classroom_unit_id IS NULL
       OR new.classroom_unit_id IS NULL
       OR (old.pre_percentage, old.post_percentage, old.gain, old.normalized_gain,
           old.is_at_ceiling, old.has_little_room_to_grow, old.slope_per_week,
           old.is_target_met, old.is_complete, old.pre_band, old.post_band,
           old.checkpoint_weeks, old.checkpoint_percentages, old.skill_codes,
           old.pre_skill_points, old.post_skill_points)
          IS DISTINCT FROM
          (new.pre_percentage, new.post_percentage, new.gain, new.normalized_gain,
           new.is_at_ceiling, new.has_little_room_to_grow, new.slope_per_week,
           new.is_target_met, new.is_complete, new.pre_band, new.post_band,
           new.checkpoint_weeks, new.checkpoint_percentages, new.skill_codes,
           new.pre_skill_points, new.post_skill_points)
),
updated AS (
    UPDATE reports_studentgrowth sg
    SET pre_percentage = d.pre_percentage,
        post_percentage = d.post_percentage,
        gain = d.gain,
        normalized_gain = d.normalized_gain,
        is_at_ceiling = d.is_at_ceiling,
        has_little_room_to_grow = d.has_little_room_to_grow,
        slope_per_week = d.slope_per_week,
        is_target_met = d.is_target_met,
        is_complete = d.is_complete,
        pre_band = d.pre_band,
        post_band = d.post_band,
        checkpoint_weeks = d.checkpoint_weeks,
        checkpoint_percentages = d.checkpoint_percentages,
        skill_codes = d.skill_codes,
        pre_skill_points = d.pre_skill_points,
        post_skill_points = d.post_skill_points,
        built_at = %(built_at)s
    FROM diff d
    WHERE d.classroom_unit_id IS NOT NULL AND d.old_classroom_unit_id IS NOT NULL
      AND sg.classroom_unit_id = d.classroom_unit_id AND sg.student_id = d.student_id
    RETURNING 1
),
inserted AS (
    INSERT INTO reports_studentgrowth (
        classroom_unit_id, student_id, pre_percentage, post_percentage, gain, normalized_gain,
        is_at_ceiling, has_little_room_to_grow, slope_per_week, is_target_met, is_complete,
        pre_band, post_band, checkpoint_weeks, checkpoint_percentages, skill_codes,
        pre_skill_points, post_skill_points, built_at
    )
    SELECT classroom_unit_id, student_id, pre_percentage, post_percentage, gain,
           normalized_gain, is_at_ceiling, has_little_room_to_grow, slope_per_week,
           is_target_met, is_complete, pre_band, post_band, checkpoint_weeks,
           checkpoint_percentages, skill_codes, pre_skill_points, post_skill_points,
           %(built_at)s
    FROM diff
    WHERE old_classroom_unit_id IS NULL
    ORDER BY classroom_unit_id, student_id
    RETURNING 1
),
deleted AS (
    DELETE FROM reports_studentgrowth sg
    USING diff d
    WHERE d.classroom_unit_id IS NULL
      AND sg.classroom_unit_id = d.old_classroom_unit_id
      AND sg.student_id = d.old_student_id
    RETURNING 1
)
SELECT (SELECT count(*) FROM updated) + (SELECT count(*) FROM inserted)
       + (SELECT count(*) FROM deleted)

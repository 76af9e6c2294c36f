-- Store growth_summary's rows of one level (classroom units, schools × units or the district ×
-- units) in its table, writing only what differs: of the nodes whose inputs changed
-- (growth_node_digest), changed rows are updated, new ones inserted and rows no longer built
-- deleted. Returns how many rows it wrote. The ${...} markers name the level's table and
-- columns (statements.py fills them in; tests/reports/golden/ holds the three statements).
WITH new AS (
    SELECT r.node_id AS classroom_unit_id, r.*
    FROM growth_summary r
    WHERE r.level = 'classroom_unit'
),
old AS (
    -- The stored rows of the nodes whose inputs changed, and of the nodes of the district's
    -- units %(unit_ids)s that are no longer built (no classroom teaches the unit there).
    SELECT s.*
    FROM reports_classroomunitgrowthsummary s
    LEFT JOIN growth_node_digest n ON n.level = 'classroom_unit' AND n.node_id = s.classroom_unit_id
    WHERE s.classroom_unit_id IN (SELECT node_id FROM growth_node WHERE level = 'classroom_unit')
      AND (n.is_changed OR n.node_id IS NULL)
),
diff AS MATERIALIZED (
    SELECT new.*, old.id AS old_id
    FROM new
    FULL JOIN old ON old.classroom_unit_id = new.classroom_unit_id
                 AND coalesce(old.student_group_id, 0) = coalesce(new.student_group_id, 0)
                 AND old.part = new.part
    WHERE old.id IS NULL
       OR new.part IS NULL
       OR
          (old.is_suppressed, old.suppression_reason, old.n, old.incomplete_count,
           old.mean_pre_percentage, old.mean_post_percentage, old.mean_gain,
           old.mean_gain_lower, old.mean_gain_upper, old.class_average_normalized_gain,
           old.hake_band, old.mean_individual_normalized_gain, old.at_ceiling_count,
           old.little_room_to_grow_count, old.effect_size_d_av, old.target_met_count,
           old.share_meeting_target, old.band_transitions, old.skill_means, old.pre_gap,
           old.post_gap, old.gap_change, old.skill_gaps, old.inputs_digest)
          IS DISTINCT FROM
          (new.is_suppressed, new.suppression_reason, new.n, new.incomplete_count,
           new.mean_pre_percentage, new.mean_post_percentage, new.mean_gain,
           new.mean_gain_lower, new.mean_gain_upper, new.class_average_normalized_gain,
           new.hake_band, new.mean_individual_normalized_gain, new.at_ceiling_count,
           new.little_room_to_grow_count, new.effect_size_d_av, new.target_met_count,
           new.share_meeting_target, new.band_transitions, new.skill_means, new.pre_gap,
           new.post_gap, new.gap_change, new.skill_gaps, new.inputs_digest)
),
updated AS (
    UPDATE reports_classroomunitgrowthsummary s
    SET
        is_suppressed = d.is_suppressed,
        suppression_reason = d.suppression_reason,
        n = d.n,
        incomplete_count = d.incomplete_count,
        mean_pre_percentage = d.mean_pre_percentage,
        mean_post_percentage = d.mean_post_percentage,
        mean_gain = d.mean_gain,
        mean_gain_lower = d.mean_gain_lower,
        mean_gain_upper = d.mean_gain_upper,
        class_average_normalized_gain = d.class_average_normalized_gain,
        hake_band = d.hake_band,
        mean_individual_normalized_gain = d.mean_individual_normalized_gain,
        at_ceiling_count = d.at_ceiling_count,
        little_room_to_grow_count = d.little_room_to_grow_count,
        effect_size_d_av = d.effect_size_d_av,
        target_met_count = d.target_met_count,
        share_meeting_target = d.share_meeting_target,
        band_transitions = d.band_transitions,
        skill_means = d.skill_means,
        pre_gap = d.pre_gap,
        post_gap = d.post_gap,
        gap_change = d.gap_change,
        skill_gaps = d.skill_gaps,
        inputs_digest = d.inputs_digest,
        built_at = %(built_at)s
    FROM diff d
    WHERE d.old_id = s.id AND d.part IS NOT NULL
    RETURNING 1
),
inserted AS (
    INSERT INTO reports_classroomunitgrowthsummary (
        classroom_unit_id, student_group_id, part, is_suppressed, suppression_reason, n,
        incomplete_count, mean_pre_percentage, mean_post_percentage, mean_gain,
        mean_gain_lower, mean_gain_upper, class_average_normalized_gain, hake_band,
        mean_individual_normalized_gain, at_ceiling_count, little_room_to_grow_count,
        effect_size_d_av, target_met_count, share_meeting_target, band_transitions,
        skill_means, pre_gap, post_gap, gap_change, skill_gaps, inputs_digest,
        built_at
    )
    SELECT classroom_unit_id, student_group_id, part,
           is_suppressed, suppression_reason, n, incomplete_count, mean_pre_percentage,
           mean_post_percentage, mean_gain, mean_gain_lower, mean_gain_upper,
           class_average_normalized_gain, hake_band, mean_individual_normalized_gain,
           at_ceiling_count, little_room_to_grow_count, effect_size_d_av, target_met_count,
           share_meeting_target, band_transitions, skill_means, pre_gap, post_gap, gap_change,
           skill_gaps, inputs_digest,
           %(built_at)s
    FROM diff
    WHERE old_id IS NULL
    RETURNING 1
),
deleted AS (
    DELETE FROM reports_classroomunitgrowthsummary s
    USING diff d
    WHERE d.part IS NULL AND s.id = d.old_id
    RETURNING 1
)
SELECT (SELECT count(*) FROM updated) + (SELECT count(*) FROM inserted)
       + (SELECT count(*) FROM deleted)

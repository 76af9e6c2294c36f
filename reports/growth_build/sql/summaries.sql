-- growth_summary: every summary row of the nodes of growth_node whose inputs changed
-- (growth_node_digest), as the three summary tables store them (reports/models.py,
-- GrowthSummary). The statistics are growth.group_summary's
-- over each cell's complete students (reports/growth/ defines each), computed from the
-- exact sums of growth_cell and growth_skill_cell; growth_flag says which student-group pairs
-- and skills are suppressed (growth.nested_breakdown_suppression, run in Python), and the
-- t quantiles of the 95 percent intervals come as arrays (%(quantile_n)s, %(quantile_t)s: t at
-- n − 1 degrees of freedom for each n).
CREATE TEMPORARY TABLE growth_summary ON COMMIT DROP AS
WITH changed AS (
    SELECT level, unit_id, node_id, digest FROM growth_node_digest WHERE is_changed
),
row_key AS (
    -- Everyone's row of every node; per student group the members' and the rest's, except in
    -- a classroom unit without complete students, which has no growth to break down yet.
    SELECT n.level, n.unit_id, n.node_id, NULL::bigint AS student_group_id, 'all' AS part,
           n.digest
    FROM changed n
    UNION ALL
    SELECT n.level, n.unit_id, n.node_id, g.id, side.part, '' AS digest
    FROM changed n
    CROSS JOIN unnest(%(group_ids)s::bigint[]) AS g(id)
    CROSS JOIN (VALUES ('group'), ('rest')) AS side(part)
    WHERE n.level <> 'classroom_unit'
       OR EXISTS (SELECT 1 FROM growth_cell c
                  WHERE c.level = n.level AND c.unit_id = n.unit_id AND c.node_id = n.node_id
                    AND c.part = 'all' AND c.n > 0)
),
cell AS (
    SELECT k.level, k.unit_id, k.node_id, k.student_group_id, k.part, k.digest,
           coalesce(c.n, 0) AS n,
           coalesce(c.incomplete, 0) AS incomplete,
           c.pre_sum::float8 / c.n / %(exact_sum_scale)s AS mean_pre,
           c.post_sum::float8 / c.n / %(exact_sum_scale)s AS mean_post,
           c.gain_sum::float8 / c.n / %(exact_sum_scale)s AS mean_gain,
           -- Sample SDs (n − 1): n · Σ(x − x̄)² = n·Σx² − (Σx)², an exact integer (0 for
           -- equal values), divided once, in floats.
           CASE WHEN c.n >= 2 THEN
               sqrt((c.n * c.pre_squares - c.pre_sum * c.pre_sum)::float8 / c.n / (c.n - 1))
               / %(exact_sum_scale)s
           END AS sd_pre,
           CASE WHEN c.n >= 2 THEN
               sqrt((c.n * c.post_squares - c.post_sum * c.post_sum)::float8 / c.n / (c.n - 1))
               / %(exact_sum_scale)s
           END AS sd_post,
           CASE WHEN c.n >= 2 THEN
               sqrt((c.n * c.gain_squares - c.gain_sum * c.gain_sum)::float8 / c.n / (c.n - 1))
               / %(exact_sum_scale)s
           END AS sd_gain,
           CASE WHEN c.g_count > 0
                THEN c.g_sum::float8 / c.g_count / %(exact_sum_scale)s END AS mean_g,
           coalesce(c.at_ceiling, 0) AS at_ceiling,
           coalesce(c.little_room, 0) AS little_room,
           coalesce(c.target_met, 0) AS target_met,
           jsonb_build_object(
               'beginning>beginning', coalesce(c.beginning_beginning, 0),
               'beginning>developing', coalesce(c.beginning_developing, 0),
               'beginning>proficient', coalesce(c.beginning_proficient, 0),
               'developing>beginning', coalesce(c.developing_beginning, 0),
               'developing>developing', coalesce(c.developing_developing, 0),
               'developing>proficient', coalesce(c.developing_proficient, 0),
               'proficient>beginning', coalesce(c.proficient_beginning, 0),
               'proficient>developing', coalesce(c.proficient_developing, 0),
               'proficient>proficient', coalesce(c.proficient_proficient, 0)
           ) AS band_transitions
    FROM row_key k
    LEFT JOIN growth_cell c ON c.level = k.level AND c.unit_id = k.unit_id
                           AND c.node_id = k.node_id AND c.part = k.part
                           AND coalesce(c.student_group_id, 0) = coalesce(k.student_group_id, 0)
),
quantile AS (
    SELECT * FROM unnest(%(quantile_n)s::int[], %(quantile_t)s::float8[]) AS q(n, t)
),
statistics AS (
    SELECT c.*,
           -- ⟨g⟩ from the group's means (Hake 1998), undefined when the mean pre is 100.
           CASE WHEN c.mean_pre <> 100
                THEN (c.mean_post - c.mean_pre) / (100 - c.mean_pre) END AS class_gain,
           -- The 95 percent interval of the mean gain: mean ± t(n − 1) · SD / √n.
           c.mean_gain - q.t * c.sd_gain / sqrt(c.n) AS mean_gain_lower,
           c.mean_gain + q.t * c.sd_gain / sqrt(c.n) AS mean_gain_upper,
           -- d_av: mean gain over the average of the pre and post SDs.
           CASE WHEN c.sd_pre + c.sd_post > 0
                THEN (c.mean_post - c.mean_pre) / ((c.sd_pre + c.sd_post) / 2) END AS d_av,
           CASE WHEN c.n > 0 THEN c.target_met::float8 / c.n END AS share_meeting_target
    FROM cell c
    LEFT JOIN quantile q ON q.n = c.n
),
skill_side AS MATERIALIZED (
    -- Per node, student group and skill: both sides' students with the skill at pre and
    -- post, and their means (when the side has any).
    SELECT level, unit_id, node_id, student_group_id, code,
           coalesce(max(n) FILTER (WHERE part = 'group'), 0) AS group_n,
           coalesce(max(n) FILTER (WHERE part = 'rest'), 0) AS rest_n,
           max(mean_pre) FILTER (WHERE part = 'group') AS group_pre,
           max(mean_post) FILTER (WHERE part = 'group') AS group_post,
           max(mean_pre) FILTER (WHERE part = 'rest') AS rest_pre,
           max(mean_post) FILTER (WHERE part = 'rest') AS rest_post
    FROM growth_skill_cell
    WHERE part <> 'all'
      AND (level, unit_id, node_id) IN (SELECT level, unit_id, node_id FROM changed)
    GROUP BY level, unit_id, node_id, student_group_id, code
),
skill_everyone AS MATERIALIZED (
    -- Everyone's per-skill means (growth.SkillMeans), for each skill someone has.
    SELECT level, unit_id, node_id,
           jsonb_object_agg(code, jsonb_build_object('n', n, 'pre', mean_pre, 'post', mean_post))
               AS skill_means
    FROM growth_skill_cell
    WHERE part = 'all' AND n > 0
      AND (level, unit_id, node_id) IN (SELECT level, unit_id, node_id FROM changed)
    GROUP BY level, unit_id, node_id
),
skill_breakdown AS MATERIALIZED (
    -- A shown pair's per-skill means and gaps: a skill is suppressed where growth_flag hides
    -- it; its gap also where either side is below the minimum n (growth.cells_to_suppress).
    SELECT s.level, s.unit_id, s.node_id, s.student_group_id,
           jsonb_object_agg(s.code, CASE
               WHEN s.code = ANY(f.hidden_codes) THEN '{"suppressed": true}'::jsonb
               ELSE jsonb_build_object('n', s.group_n, 'pre', s.group_pre, 'post', s.group_post)
           END) AS group_means,
           jsonb_object_agg(s.code, CASE
               WHEN s.code = ANY(f.hidden_codes) THEN '{"suppressed": true}'::jsonb
               ELSE jsonb_build_object('n', s.rest_n, 'pre', s.rest_pre, 'post', s.rest_post)
           END) AS rest_means,
           jsonb_object_agg(s.code, CASE
               WHEN s.code = ANY(f.hidden_codes)
                    OR s.group_n < %(minimum_n)s OR s.rest_n < %(minimum_n)s
                   THEN '{"suppressed": true}'::jsonb
               ELSE jsonb_build_object(
                   'pre', s.group_pre - s.rest_pre,
                   'post', s.group_post - s.rest_post,
                   'change', (s.group_post - s.rest_post) - (s.group_pre - s.rest_pre))
           END) AS gaps
    FROM skill_side s
    JOIN growth_flag f ON f.level = s.level AND f.unit_id = s.unit_id
                      AND f.node_id = s.node_id AND f.student_group_id = s.student_group_id
    WHERE s.group_n > 0 OR s.rest_n > 0
    GROUP BY s.level, s.unit_id, s.node_id, s.student_group_id
),
shown AS (
    -- Every row with its statistics, and what its pair's flags and partner say.
    SELECT s.*,
           coalesce(f.is_hidden, false) AS is_hidden,
           partner.mean_pre AS partner_mean_pre,
           partner.mean_post AS partner_mean_post,
           CASE s.part WHEN 'all' THEN coalesce(e.skill_means, '{}')
                       WHEN 'group' THEN coalesce(b.group_means, '{}')
                       ELSE coalesce(b.rest_means, '{}') END AS skill_means,
           CASE WHEN s.part = 'group' THEN coalesce(b.gaps, '{}') ELSE '{}' END AS skill_gaps
    FROM statistics s
    LEFT JOIN growth_flag f ON f.level = s.level AND f.unit_id = s.unit_id
                           AND f.node_id = s.node_id AND f.student_group_id = s.student_group_id
    LEFT JOIN cell partner ON partner.level = s.level AND partner.unit_id = s.unit_id
                          AND partner.node_id = s.node_id
                          AND partner.student_group_id = s.student_group_id
                          AND partner.part = CASE s.part WHEN 'group' THEN 'rest'
                                                         ELSE 'group' END
    LEFT JOIN skill_everyone e ON s.part = 'all' AND e.level = s.level
                              AND e.unit_id = s.unit_id AND e.node_id = s.node_id
    LEFT JOIN skill_breakdown b ON b.level = s.level AND b.unit_id = s.unit_id
                               AND b.node_id = s.node_id
                               AND b.student_group_id = s.student_group_id
)
SELECT level, unit_id, node_id, student_group_id, part,
       is_hidden AS is_suppressed,
       CASE WHEN NOT is_hidden THEN ''
            WHEN n < %(minimum_n)s THEN 'fewer_than_minimum'
            ELSE 'protects_small_cell' END AS suppression_reason,
       CASE WHEN NOT is_hidden THEN n END AS n,
       CASE WHEN NOT is_hidden THEN incomplete END AS incomplete_count,
       CASE WHEN NOT is_hidden THEN mean_pre END AS mean_pre_percentage,
       CASE WHEN NOT is_hidden THEN mean_post END AS mean_post_percentage,
       CASE WHEN NOT is_hidden THEN mean_gain END AS mean_gain,
       CASE WHEN NOT is_hidden THEN mean_gain_lower END AS mean_gain_lower,
       CASE WHEN NOT is_hidden THEN mean_gain_upper END AS mean_gain_upper,
       CASE WHEN NOT is_hidden THEN class_gain END AS class_average_normalized_gain,
       -- growth.hake_band: low < 0.3 ≤ medium < 0.7 ≤ high, with the boundary tolerance.
       CASE WHEN is_hidden OR class_gain IS NULL THEN ''
            WHEN class_gain >= %(hake_high_from)s - %(tolerance)s THEN 'high'
            WHEN class_gain >= %(hake_medium_from)s - %(tolerance)s THEN 'medium'
            ELSE 'low' END AS hake_band,
       CASE WHEN NOT is_hidden THEN mean_g END AS mean_individual_normalized_gain,
       CASE WHEN NOT is_hidden THEN at_ceiling END AS at_ceiling_count,
       CASE WHEN NOT is_hidden THEN little_room END AS little_room_to_grow_count,
       CASE WHEN NOT is_hidden THEN d_av END AS effect_size_d_av,
       CASE WHEN NOT is_hidden THEN target_met END AS target_met_count,
       CASE WHEN NOT is_hidden THEN share_meeting_target END AS share_meeting_target,
       CASE WHEN NOT is_hidden THEN band_transitions ELSE '{}' END AS band_transitions,
       CASE WHEN NOT is_hidden THEN skill_means ELSE '{}' END AS skill_means,
       -- The group's gaps to the rest (percentage points) and how they changed.
       CASE WHEN part = 'group' AND NOT is_hidden
            THEN mean_pre - partner_mean_pre END AS pre_gap,
       CASE WHEN part = 'group' AND NOT is_hidden
            THEN mean_post - partner_mean_post END AS post_gap,
       CASE WHEN part = 'group' AND NOT is_hidden
            THEN (mean_post - partner_mean_post) - (mean_pre - partner_mean_pre)
       END AS gap_change,
       CASE WHEN NOT is_hidden THEN skill_gaps ELSE '{}' END AS skill_gaps,
       -- Everyone's row keeps what the node's rows were built from.
       digest AS inputs_digest
FROM shown

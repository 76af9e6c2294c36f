-- growth_skill_cell: per skill, the complete students of each cell of growth_cell scored on it
-- at both the pre and the post, with their mean percentages there (growth._skill_means). A
-- skill's max points at the pre (or the post) is the same for every student of a unit, and a
-- cell is within one unit, so a mean is 100 × points / (students × max points), from the
-- cell's exact sums of points in hundredths (its skill arrays, indexed as the unit's codes;
-- the codes and maxima from plan.sql).
CREATE TEMPORARY TABLE growth_skill_cell ON COMMIT DROP AS
WITH skill AS (
    -- Each unit's codes at the pre and the post, by index, with their max points.
    SELECT unit_id, skill_index, code,
           min(max_points) FILTER (WHERE kind = 'pre') AS pre_max,
           min(max_points) FILTER (WHERE kind = 'post') AS post_max
    FROM unnest(%(measure_units)s::bigint[], %(measure_kinds)s::text[],
                %(measure_codes)s::text[], %(measure_skill_indexes)s::int[],
                %(measure_maxima)s::int[])
        AS m(unit_id, kind, code, skill_index, max_points)
    WHERE skill_index IS NOT NULL
    GROUP BY unit_id, skill_index, code
),
cell_skill AS MATERIALIZED (
    -- Each cell's skills by index, unnested once per cell (joined to ``skill`` first, the
    -- arrays would be unnested once per skill of the unit).
    SELECT c.level, c.unit_id, c.node_id, c.student_group_id, c.part, k.skill_index, k.n,
           k.pre_points, k.post_points
    FROM growth_cell c
    CROSS JOIN LATERAL unnest(c.skill_counts, c.skill_pre_points, c.skill_post_points)
        WITH ORDINALITY AS k(n, pre_points, post_points, skill_index)
    WHERE k.n > 0
)
SELECT c.level, c.unit_id, c.node_id, c.student_group_id, c.part, s.code, c.n,
       (100.0 * c.pre_points / (c.n * s.pre_max))::float8 AS mean_pre,
       (100.0 * c.post_points / (c.n * s.post_max))::float8 AS mean_post
FROM cell_skill c
JOIN skill s ON s.unit_id = c.unit_id AND s.skill_index = c.skill_index

-- growth_node_digest: for every node of growth_node, a digest of everything its summary rows are
-- built from (its cells and its skills' cells, the suppression of its student-group pairs, and
-- %(definition)s: the statements, rules and settings they follow), and whether that differs
-- from the digest its stored row of everyone was written with. Only changed nodes' rows are
-- built and written again: within a unit that changed, a class's change rebuilds its own rows,
-- its school's and the district's (and those whose suppression it changed), not its
-- neighbours'.
CREATE TEMPORARY TABLE growth_node_digest ON COMMIT DROP AS
WITH cell AS (
    -- 64-bit hashes of whole rows, added up: the same rows give the same sum in any order.
    SELECT level, unit_id, node_id, sum(hash_record_extended(c, 0)) AS cells
    FROM growth_cell c
    GROUP BY level, unit_id, node_id
),
skill AS (
    SELECT level, unit_id, node_id, sum(hash_record_extended(s, 0)) AS skills
    FROM growth_skill_cell s
    GROUP BY level, unit_id, node_id
),
flag AS (
    SELECT level, unit_id, node_id, sum(hash_record_extended(f, 0)) AS flags
    FROM growth_flag f
    GROUP BY level, unit_id, node_id
),
digest AS (
    -- The district's rows follow from the whole unit: their digest is the unit's
    -- (unit_digests.sql), which is what tells a later rebuild whether the unit changed.
    SELECT n.level, n.unit_id, n.node_id,
           CASE WHEN n.level = 'district' THEN u.digest
                ELSE md5(concat_ws('|', %(definition)s, c.cells, s.skills, f.flags))
           END AS digest
    FROM growth_node n
    LEFT JOIN growth_unit_digest u ON n.level = 'district' AND u.unit_id = n.unit_id
    LEFT JOIN cell c ON c.level = n.level AND c.unit_id = n.unit_id AND c.node_id = n.node_id
    LEFT JOIN skill s ON s.level = n.level AND s.unit_id = n.unit_id AND s.node_id = n.node_id
    LEFT JOIN flag f ON f.level = n.level AND f.unit_id = n.unit_id AND f.node_id = n.node_id
),
stored AS (
    SELECT 'classroom_unit' AS level, s.classroom_unit_id AS node_id, NULL::bigint AS unit_id,
           s.inputs_digest
    FROM reports_classroomunitgrowthsummary s
    JOIN growth_node n ON n.level = 'classroom_unit' AND n.node_id = s.classroom_unit_id
    WHERE s.part = 'all'
    UNION ALL
    SELECT 'school', s.school_id, s.unit_id, s.inputs_digest
    FROM reports_schoolunitgrowthsummary s
    JOIN growth_node n ON n.level = 'school' AND n.node_id = s.school_id
                      AND n.unit_id = s.unit_id
    WHERE s.part = 'all'
    UNION ALL
    SELECT 'district', s.district_id, s.unit_id, s.inputs_digest
    FROM reports_districtunitgrowthsummary s
    WHERE s.part = 'all'
      AND s.district_id = %(district_id)s
      AND s.unit_id = ANY(%(unit_ids)s::bigint[])
)
SELECT d.level, d.unit_id, d.node_id, d.digest,
       d.digest IS DISTINCT FROM s.inputs_digest AS is_changed
FROM digest d
LEFT JOIN stored s ON s.level = d.level AND s.node_id = d.node_id
                  AND (s.unit_id = d.unit_id OR d.level = 'classroom_unit')

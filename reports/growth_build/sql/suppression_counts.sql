-- What small-cell suppression looks at (reports/growth_build/suppression.py): for every node
-- and student group, how many complete students are in the group and in the rest, overall
-- (code NULL) and per skill. A count with no row is 0.
SELECT level, unit_id, node_id, student_group_id, NULL AS code, part, n
FROM growth_cell
WHERE part <> 'all'
UNION ALL
SELECT level, unit_id, node_id, student_group_id, code, part, n
FROM growth_skill_cell
WHERE part <> 'all'

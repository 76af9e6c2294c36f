-- growth_cell: the sums behind every summary row of the nodes of growth_node (the classroom
-- units %(node_classroom_unit_ids)s, their schools and the district): each classroom unit's
-- stored cells (reports_classroomunitgrowthcell, class_cells.sql), a school's the sums of its
-- classroom units', the district's the sums of its schools'. For everyone (part 'all') and,
-- for each student group of %(group_ids)s, its members ('group') and the rest ('rest'); a cell
-- nobody is in has no row, but every classroom unit has a row of everyone. Every sum is exact,
-- so a roll-up is what adding the students would give, to the last digit. ${cell_sums} adds
-- up every count and sum of a cell (statements.py lists them once). Per skill, by its index
-- among the unit's codes, the arrays add up element by element; those markers repeat one sum
-- per skill, as many as the unit with the most skills has (statements.py fills them in;
-- tests/reports/golden/ holds the statement as it runs for a few shapes of units).
CREATE TEMPORARY TABLE growth_cell ON COMMIT DROP AS
WITH classroom_unit_cell AS (
    SELECT n.unit_id, n.school_id, c.*
    FROM reports_classroomunitgrowthcell c
    JOIN unnest(%(node_classroom_unit_ids)s::bigint[], %(node_unit_ids)s::bigint[],
                %(node_school_ids)s::bigint[]) AS n(classroom_unit_id, unit_id, school_id)
      ON n.classroom_unit_id = c.classroom_unit_id
    WHERE c.part = 'all' OR c.student_group_id = ANY(%(group_ids)s::bigint[])
),
school_cell AS (
    SELECT unit_id, school_id, student_group_id, part,
           sum(incomplete)::int AS incomplete,
           sum(n)::int AS n,
           sum(g_count)::int AS g_count,
           sum(at_ceiling)::int AS at_ceiling,
           sum(little_room)::int AS little_room,
           sum(target_met)::int AS target_met,
           sum(beginning_beginning)::int AS beginning_beginning,
           sum(beginning_developing)::int AS beginning_developing,
           sum(beginning_proficient)::int AS beginning_proficient,
           sum(developing_beginning)::int AS developing_beginning,
           sum(developing_developing)::int AS developing_developing,
           sum(developing_proficient)::int AS developing_proficient,
           sum(proficient_beginning)::int AS proficient_beginning,
           sum(proficient_developing)::int AS proficient_developing,
           sum(proficient_proficient)::int AS proficient_proficient,
           sum(pre_sum) AS pre_sum,
           sum(pre_squares) AS pre_squares,
           sum(post_sum) AS post_sum,
           sum(post_squares) AS post_squares,
           sum(gain_sum) AS gain_sum,
           sum(gain_squares) AS gain_squares,
           sum(g_sum) AS g_sum,
           (ARRAY[sum(skill_counts[1])::int, sum(skill_counts[2])::int])[1:max(cardinality(skill_counts))] AS skill_counts,
           (ARRAY[sum(skill_pre_points[1])::bigint, sum(skill_pre_points[2])::bigint])[1:max(cardinality(skill_counts))] AS skill_pre_points,
           (ARRAY[sum(skill_post_points[1])::bigint, sum(skill_post_points[2])::bigint])[1:max(cardinality(skill_counts))] AS skill_post_points
    FROM classroom_unit_cell
    GROUP BY unit_id, school_id, student_group_id, part
),
district_cell AS (
    SELECT unit_id, student_group_id, part,
           sum(incomplete)::int AS incomplete,
           sum(n)::int AS n,
           sum(g_count)::int AS g_count,
           sum(at_ceiling)::int AS at_ceiling,
           sum(little_room)::int AS little_room,
           sum(target_met)::int AS target_met,
           sum(beginning_beginning)::int AS beginning_beginning,
           sum(beginning_developing)::int AS beginning_developing,
           sum(beginning_proficient)::int AS beginning_proficient,
           sum(developing_beginning)::int AS developing_beginning,
           sum(developing_developing)::int AS developing_developing,
           sum(developing_proficient)::int AS developing_proficient,
           sum(proficient_beginning)::int AS proficient_beginning,
           sum(proficient_developing)::int AS proficient_developing,
           sum(proficient_proficient)::int AS proficient_proficient,
           sum(pre_sum) AS pre_sum,
           sum(pre_squares) AS pre_squares,
           sum(post_sum) AS post_sum,
           sum(post_squares) AS post_squares,
           sum(gain_sum) AS gain_sum,
           sum(gain_squares) AS gain_squares,
           sum(g_sum) AS g_sum,
           (ARRAY[sum(skill_counts[1])::int, sum(skill_counts[2])::int])[1:max(cardinality(skill_counts))] AS skill_counts,
           (ARRAY[sum(skill_pre_points[1])::bigint, sum(skill_pre_points[2])::bigint])[1:max(cardinality(skill_counts))] AS skill_pre_points,
           (ARRAY[sum(skill_post_points[1])::bigint, sum(skill_post_points[2])::bigint])[1:max(cardinality(skill_counts))] AS skill_post_points
    FROM school_cell
    GROUP BY unit_id, student_group_id, part
)
SELECT 'classroom_unit' AS level, unit_id, classroom_unit_id AS node_id, student_group_id,
       part, incomplete, n, pre_sum, pre_squares, post_sum, post_squares, gain_sum,
       gain_squares, g_count, g_sum, at_ceiling, little_room, target_met,
       beginning_beginning, beginning_developing, beginning_proficient,
       developing_beginning, developing_developing, developing_proficient,
       proficient_beginning, proficient_developing, proficient_proficient,
       skill_counts, skill_pre_points, skill_post_points
FROM classroom_unit_cell
UNION ALL
SELECT 'school', unit_id, school_id, student_group_id,
       part, incomplete, n, pre_sum, pre_squares, post_sum, post_squares, gain_sum,
       gain_squares, g_count, g_sum, at_ceiling, little_room, target_met,
       beginning_beginning, beginning_developing, beginning_proficient,
       developing_beginning, developing_developing, developing_proficient,
       proficient_beginning, proficient_developing, proficient_proficient,
       skill_counts, skill_pre_points, skill_post_points
FROM school_cell
UNION ALL
SELECT 'district', unit_id, %(district_id)s::bigint, student_group_id,
       part, incomplete, n, pre_sum, pre_squares, post_sum, post_squares, gain_sum,
       gain_squares, g_count, g_sum, at_ceiling, little_room, target_met,
       beginning_beginning, beginning_developing, beginning_proficient,
       developing_beginning, developing_developing, developing_proficient,
       proficient_beginning, proficient_developing, proficient_proficient,
       skill_counts, skill_pre_points, skill_post_points
FROM district_cell

-- growth_cell: the sums behind every summary row of the nodes of growth_node (the classroom
-- units %(node_classroom_unit_ids)s, their schools and the district), read from the stored
-- student rows: for everyone (part 'all') and, for each student group of %(group_ids)s, its
-- members ('group') and the rest ('rest'). A cell nobody is in has no row. Only complete
-- students (pre and post) enter the statistics; the others are counted.
--
-- Students are added up once per combination of student groups in a classroom unit
-- (``partial``), since many share one; cells add partials, schools add classroom units and the
-- district adds schools. Every sum is exact, so none depends on the order rows come in (a
-- rebuild over unchanged rows gives the same numbers to the last digit, in parallel or not):
-- percentages, gains and g are added as whole multiples of 1/%(exact_sum_scale)s (each
-- rounded once, the least significant digits of a float8 percentage), and their squares as
-- the exact squares of those integers, in numeric (summaries.sql divides once, at the end). A
-- combination of student groups is numbered (``combination``): grouping on an integer costs
-- less than on an array. Per skill
-- (by its index among the unit's codes), the students scored on it at both the pre and the
-- post and their points there (hundredths), exact integer sums. The ${...} markers repeat
-- those per skill, as many as the unit with the most skills has (statements.py fills them in;
-- tests/reports/golden/ holds the statement as it runs for a few shapes of units).
CREATE TEMPORARY TABLE growth_cell ON COMMIT DROP AS
WITH membership AS (
    SELECT student_id, array_agg(studentgroup_id ORDER BY studentgroup_id) AS group_ids
    FROM classrooms_student_groups
    WHERE studentgroup_id = ANY(%(group_ids)s::bigint[])
    GROUP BY student_id
),
combination AS MATERIALIZED (
    -- Each combination of student groups someone is in, numbered from 1 (0: in none).
    SELECT group_ids, row_number() OVER (ORDER BY group_ids)::int AS combination
    FROM membership
    GROUP BY group_ids
),
member AS (
    SELECT m.student_id, c.combination
    FROM membership m
    JOIN combination c ON c.group_ids = m.group_ids
),
student AS (
    SELECT n.unit_id, n.school_id, sg.classroom_unit_id, sg.student_id,
           coalesce(m.combination, 0) AS combination,
           sg.is_complete,
           (sg.pre_percentage * %(exact_sum_scale)s)::bigint AS pre,
           (sg.post_percentage * %(exact_sum_scale)s)::bigint AS post,
           (sg.gain * %(exact_sum_scale)s)::bigint AS gain,
           -- g has no bound a bigint would always hold (pre just below 100): numeric.
           (sg.normalized_gain * %(exact_sum_scale)s)::numeric AS normalized_gain,
           sg.is_at_ceiling, sg.has_little_room_to_grow, sg.is_target_met,
           sg.pre_band, sg.post_band, sg.pre_skill_points, sg.post_skill_points
    FROM reports_studentgrowth sg
    JOIN unnest(%(node_classroom_unit_ids)s::bigint[], %(node_unit_ids)s::bigint[],
                %(node_school_ids)s::bigint[]) AS n(classroom_unit_id, unit_id, school_id)
      ON n.classroom_unit_id = sg.classroom_unit_id
    LEFT JOIN member m ON m.student_id = sg.student_id
),
partial AS (
    -- The students of one classroom unit who are in the same student groups, added up once.
    SELECT classroom_unit_id, unit_id, school_id, combination,
           count(*) FILTER (WHERE NOT is_complete) AS incomplete,
           count(*) FILTER (WHERE is_complete) AS n,
           sum(pre) FILTER (WHERE is_complete) AS pre_sum,
           sum(pre::numeric * pre) FILTER (WHERE is_complete) AS pre_squares,
           sum(post) FILTER (WHERE is_complete) AS post_sum,
           sum(post::numeric * post) FILTER (WHERE is_complete) AS post_squares,
           sum(gain) FILTER (WHERE is_complete) AS gain_sum,
           sum(gain::numeric * gain) FILTER (WHERE is_complete) AS gain_squares,
           count(normalized_gain) FILTER (WHERE is_complete) AS g_count,
           sum(normalized_gain) FILTER (WHERE is_complete) AS g_sum,
           count(*) FILTER (WHERE is_complete AND is_at_ceiling) AS at_ceiling,
           count(*) FILTER (WHERE is_complete AND has_little_room_to_grow) AS little_room,
           count(*) FILTER (WHERE is_complete AND is_target_met) AS target_met,
           -- Proficiency band transitions, pre band > post band, of complete students.
           count(*) FILTER (WHERE is_complete AND pre_band = 'beginning'
                            AND post_band = 'beginning') AS beginning_beginning,
           count(*) FILTER (WHERE is_complete AND pre_band = 'beginning'
                            AND post_band = 'developing') AS beginning_developing,
           count(*) FILTER (WHERE is_complete AND pre_band = 'beginning'
                            AND post_band = 'proficient') AS beginning_proficient,
           count(*) FILTER (WHERE is_complete AND pre_band = 'developing'
                            AND post_band = 'beginning') AS developing_beginning,
           count(*) FILTER (WHERE is_complete AND pre_band = 'developing'
                            AND post_band = 'developing') AS developing_developing,
           count(*) FILTER (WHERE is_complete AND pre_band = 'developing'
                            AND post_band = 'proficient') AS developing_proficient,
           count(*) FILTER (WHERE is_complete AND pre_band = 'proficient'
                            AND post_band = 'beginning') AS proficient_beginning,
           count(*) FILTER (WHERE is_complete AND pre_band = 'proficient'
                            AND post_band = 'developing') AS proficient_developing,
           count(*) FILTER (WHERE is_complete AND pre_band = 'proficient'
                            AND post_band = 'proficient') AS proficient_proficient
    FROM student
    GROUP BY classroom_unit_id, unit_id, school_id, combination
),
part AS (
    -- Each partial counts for everyone (side 0) and, for each student group, for its members
    -- (side 1) or for the rest (side 2).
    SELECT p.*, NULL::bigint AS student_group_id, 0 AS side
    FROM partial p
    UNION ALL
    SELECT p.*, g.id, CASE WHEN g.id = ANY(c.group_ids) THEN 1 ELSE 2 END
    FROM partial p
    LEFT JOIN combination c ON c.combination = p.combination
    CROSS JOIN unnest(%(group_ids)s::bigint[]) AS g(id)
),
classroom_unit_cell AS (
    SELECT unit_id, school_id, classroom_unit_id, student_group_id,
           (ARRAY['all', 'group', 'rest'])[side + 1] AS part,
           sum(incomplete)::int AS incomplete, sum(n)::int AS n,
           sum(pre_sum) AS pre_sum, sum(pre_squares) AS pre_squares,
           sum(post_sum) AS post_sum, sum(post_squares) AS post_squares,
           sum(gain_sum) AS gain_sum, sum(gain_squares) AS gain_squares,
           sum(g_count)::int AS g_count, sum(g_sum) AS g_sum,
           sum(at_ceiling)::int AS at_ceiling, sum(little_room)::int AS little_room,
           sum(target_met)::int AS target_met,
           sum(beginning_beginning)::int AS beginning_beginning,
           sum(beginning_developing)::int AS beginning_developing,
           sum(beginning_proficient)::int AS beginning_proficient,
           sum(developing_beginning)::int AS developing_beginning,
           sum(developing_developing)::int AS developing_developing,
           sum(developing_proficient)::int AS developing_proficient,
           sum(proficient_beginning)::int AS proficient_beginning,
           sum(proficient_developing)::int AS proficient_developing,
           sum(proficient_proficient)::int AS proficient_proficient
    FROM part
    GROUP BY classroom_unit_id, unit_id, school_id, student_group_id, side
),
school_cell AS (
    -- A school's cells add up its classroom units', and the district's its schools'.
    SELECT unit_id, school_id, student_group_id, part,
           sum(incomplete)::int AS incomplete, sum(n)::int AS n,
           sum(pre_sum) AS pre_sum, sum(pre_squares) AS pre_squares,
           sum(post_sum) AS post_sum, sum(post_squares) AS post_squares,
           sum(gain_sum) AS gain_sum, sum(gain_squares) AS gain_squares,
           sum(g_count)::int AS g_count, sum(g_sum) AS g_sum,
           sum(at_ceiling)::int AS at_ceiling, sum(little_room)::int AS little_room,
           sum(target_met)::int AS target_met,
           sum(beginning_beginning)::int AS beginning_beginning,
           sum(beginning_developing)::int AS beginning_developing,
           sum(beginning_proficient)::int AS beginning_proficient,
           sum(developing_beginning)::int AS developing_beginning,
           sum(developing_developing)::int AS developing_developing,
           sum(developing_proficient)::int AS developing_proficient,
           sum(proficient_beginning)::int AS proficient_beginning,
           sum(proficient_developing)::int AS proficient_developing,
           sum(proficient_proficient)::int AS proficient_proficient
    FROM classroom_unit_cell
    GROUP BY unit_id, school_id, student_group_id, part
),
district_cell AS (
    SELECT unit_id, student_group_id, part,
           sum(incomplete)::int AS incomplete, sum(n)::int AS n,
           sum(pre_sum) AS pre_sum, sum(pre_squares) AS pre_squares,
           sum(post_sum) AS post_sum, sum(post_squares) AS post_squares,
           sum(gain_sum) AS gain_sum, sum(gain_squares) AS gain_squares,
           sum(g_count)::int AS g_count, sum(g_sum) AS g_sum,
           sum(at_ceiling)::int AS at_ceiling, sum(little_room)::int AS little_room,
           sum(target_met)::int AS target_met,
           sum(beginning_beginning)::int AS beginning_beginning,
           sum(beginning_developing)::int AS beginning_developing,
           sum(beginning_proficient)::int AS beginning_proficient,
           sum(developing_beginning)::int AS developing_beginning,
           sum(developing_developing)::int AS developing_developing,
           sum(developing_proficient)::int AS developing_proficient,
           sum(proficient_beginning)::int AS proficient_beginning,
           sum(proficient_developing)::int AS proficient_developing,
           sum(proficient_proficient)::int AS proficient_proficient
    FROM school_cell
    GROUP BY unit_id, student_group_id, part
),
cell AS (
    SELECT 'classroom_unit' AS level, unit_id, classroom_unit_id AS node_id, student_group_id,
           part, incomplete, n, pre_sum, pre_squares, post_sum, post_squares, gain_sum,
           gain_squares, g_count, g_sum, at_ceiling, little_room, target_met,
           beginning_beginning, beginning_developing, beginning_proficient,
           developing_beginning, developing_developing, developing_proficient,
           proficient_beginning, proficient_developing, proficient_proficient
    FROM classroom_unit_cell
    UNION ALL
    SELECT 'school', unit_id, school_id, student_group_id,
           part, incomplete, n, pre_sum, pre_squares, post_sum, post_squares, gain_sum,
           gain_squares, g_count, g_sum, at_ceiling, little_room, target_met,
           beginning_beginning, beginning_developing, beginning_proficient,
           developing_beginning, developing_developing, developing_proficient,
           proficient_beginning, proficient_developing, proficient_proficient
    FROM school_cell
    UNION ALL
    SELECT 'district', unit_id, %(district_id)s::bigint, student_group_id,
           part, incomplete, n, pre_sum, pre_squares, post_sum, post_squares, gain_sum,
           gain_squares, g_count, g_sum, at_ceiling, little_room, target_met,
           beginning_beginning, beginning_developing, beginning_proficient,
           developing_beginning, developing_developing, developing_proficient,
           proficient_beginning, proficient_developing, proficient_proficient
    FROM district_cell
)
SELECT level, unit_id, node_id, student_group_id, part, incomplete, n, pre_sum, pre_squares,
       post_sum, post_squares, gain_sum, gain_squares, g_count, g_sum, at_ceiling, little_room,
       target_met, beginning_beginning, beginning_developing, beginning_proficient,
       developing_beginning, developing_developing, developing_proficient,
       proficient_beginning, proficient_developing, proficient_proficient,
       -- Per skill index, for growth_skill_cell (skill_cells.sql).
       '{}'::int[] AS skill_counts,
       '{}'::bigint[] AS skill_pre_points,
       '{}'::bigint[] AS skill_post_points
FROM cell

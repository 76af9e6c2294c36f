-- growth_class_cell: the cells of the classroom units whose inputs changed
-- (growth_class_digest), added up from their stored student rows: for everyone (part 'all')
-- and, for each student group of %(group_ids)s, its members ('group') and the rest ('rest').
-- Every classroom unit gets a row of everyone, carrying its digest, even with nobody in it
-- yet; other cells nobody is in have no row. Only complete students (pre and post) enter the
-- statistics; the others are counted.
--
-- Students are added up once per combination of student groups in a classroom unit
-- (``partial``), since many share one, and the cells add partials. Every sum is exact, so none
-- depends on the order rows come in, and adding stored cells later (cells.sql) gives what
-- adding the students would: percentages, gains and g are added as whole multiples of
-- 1/%(exact_sum_scale)s (each rounded once, below the last significant digit of a float8
-- percentage), and their squares as the exact squares of those integers, in numeric
-- (summaries.sql divides once, at the end). A combination of student groups is numbered
-- (``combination``): grouping on an integer costs less than on an array. Per skill (by its
-- index among the unit's codes), the students scored on it at both the pre and the post and
-- their points there (hundredths), exact integer sums. ${cell_sums} adds up every count and
-- sum of a cell (statements.py lists them once); the other ${...} markers repeat those per
-- skill, as many as the unit with the most skills has (statements.py fills them in;
-- tests/reports/golden/ holds the statement as it runs for a few shapes of units).
CREATE TEMPORARY TABLE growth_class_cell ON COMMIT DROP AS
WITH membership AS (
    -- The student groups of the students being added up.
    SELECT student_id, array_agg(studentgroup_id ORDER BY studentgroup_id) AS group_ids
    FROM classrooms_student_groups
    WHERE studentgroup_id = ANY(%(group_ids)s::bigint[])
      AND student_id IN (SELECT sg.student_id
                         FROM reports_studentgrowth sg
                         JOIN growth_class_digest d
                           ON d.classroom_unit_id = sg.classroom_unit_id AND d.is_changed)
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
    SELECT sg.classroom_unit_id, sg.student_id,
           coalesce(m.combination, 0) AS combination,
           sg.is_complete,
           (sg.pre_percentage * %(exact_sum_scale)s)::bigint AS pre,
           (sg.post_percentage * %(exact_sum_scale)s)::bigint AS post,
           (sg.gain * %(exact_sum_scale)s)::bigint AS gain,
           -- g has no bound a bigint would always hold (pre just below 100): numeric.
           round((sg.normalized_gain * %(exact_sum_scale)s)::numeric) AS normalized_gain,
           sg.is_at_ceiling, sg.has_little_room_to_grow, sg.is_target_met,
           sg.pre_band, sg.post_band, sg.pre_skill_points, sg.post_skill_points
    FROM reports_studentgrowth sg
    JOIN growth_class_digest d ON d.classroom_unit_id = sg.classroom_unit_id AND d.is_changed
    LEFT JOIN member m ON m.student_id = sg.student_id
),
partial AS (
    -- The students of one classroom unit who are in the same student groups, added up once.
    SELECT classroom_unit_id, combination,
           -- How many skills the unit has (its student rows' arrays are that long).
           max(cardinality(pre_skill_points)) AS skill_width,
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
                            AND post_band = 'proficient') AS proficient_proficient,
           count(*) FILTER (WHERE is_complete AND pre_skill_points[1] IS NOT NULL AND post_skill_points[1] IS NOT NULL) AS skill_n_1,
           sum(pre_skill_points[1]) FILTER (WHERE is_complete AND pre_skill_points[1] IS NOT NULL AND post_skill_points[1] IS NOT NULL) AS skill_pre_1,
           sum(post_skill_points[1]) FILTER (WHERE is_complete AND pre_skill_points[1] IS NOT NULL AND post_skill_points[1] IS NOT NULL) AS skill_post_1,
           count(*) FILTER (WHERE is_complete AND pre_skill_points[2] IS NOT NULL AND post_skill_points[2] IS NOT NULL) AS skill_n_2,
           sum(pre_skill_points[2]) FILTER (WHERE is_complete AND pre_skill_points[2] IS NOT NULL AND post_skill_points[2] IS NOT NULL) AS skill_pre_2,
           sum(post_skill_points[2]) FILTER (WHERE is_complete AND pre_skill_points[2] IS NOT NULL AND post_skill_points[2] IS NOT NULL) AS skill_post_2,
           count(*) FILTER (WHERE is_complete AND pre_skill_points[3] IS NOT NULL AND post_skill_points[3] IS NOT NULL) AS skill_n_3,
           sum(pre_skill_points[3]) FILTER (WHERE is_complete AND pre_skill_points[3] IS NOT NULL AND post_skill_points[3] IS NOT NULL) AS skill_pre_3,
           sum(post_skill_points[3]) FILTER (WHERE is_complete AND pre_skill_points[3] IS NOT NULL AND post_skill_points[3] IS NOT NULL) AS skill_post_3,
           count(*) FILTER (WHERE is_complete AND pre_skill_points[4] IS NOT NULL AND post_skill_points[4] IS NOT NULL) AS skill_n_4,
           sum(pre_skill_points[4]) FILTER (WHERE is_complete AND pre_skill_points[4] IS NOT NULL AND post_skill_points[4] IS NOT NULL) AS skill_pre_4,
           sum(post_skill_points[4]) FILTER (WHERE is_complete AND pre_skill_points[4] IS NOT NULL AND post_skill_points[4] IS NOT NULL) AS skill_post_4,
           count(*) FILTER (WHERE is_complete AND pre_skill_points[5] IS NOT NULL AND post_skill_points[5] IS NOT NULL) AS skill_n_5,
           sum(pre_skill_points[5]) FILTER (WHERE is_complete AND pre_skill_points[5] IS NOT NULL AND post_skill_points[5] IS NOT NULL) AS skill_pre_5,
           sum(post_skill_points[5]) FILTER (WHERE is_complete AND pre_skill_points[5] IS NOT NULL AND post_skill_points[5] IS NOT NULL) AS skill_post_5,
           count(*) FILTER (WHERE is_complete AND pre_skill_points[6] IS NOT NULL AND post_skill_points[6] IS NOT NULL) AS skill_n_6,
           sum(pre_skill_points[6]) FILTER (WHERE is_complete AND pre_skill_points[6] IS NOT NULL AND post_skill_points[6] IS NOT NULL) AS skill_pre_6,
           sum(post_skill_points[6]) FILTER (WHERE is_complete AND pre_skill_points[6] IS NOT NULL AND post_skill_points[6] IS NOT NULL) AS skill_post_6
    FROM student
    GROUP BY classroom_unit_id, combination
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
    SELECT classroom_unit_id, student_group_id,
           (ARRAY['all', 'group', 'rest'])[side + 1] AS part,
           max(skill_width) AS skill_width,
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
           sum(skill_n_1)::int AS skill_n_1, sum(skill_pre_1) AS skill_pre_1, sum(skill_post_1) AS skill_post_1,
           sum(skill_n_2)::int AS skill_n_2, sum(skill_pre_2) AS skill_pre_2, sum(skill_post_2) AS skill_post_2,
           sum(skill_n_3)::int AS skill_n_3, sum(skill_pre_3) AS skill_pre_3, sum(skill_post_3) AS skill_post_3,
           sum(skill_n_4)::int AS skill_n_4, sum(skill_pre_4) AS skill_pre_4, sum(skill_post_4) AS skill_post_4,
           sum(skill_n_5)::int AS skill_n_5, sum(skill_pre_5) AS skill_pre_5, sum(skill_post_5) AS skill_post_5,
           sum(skill_n_6)::int AS skill_n_6, sum(skill_pre_6) AS skill_pre_6, sum(skill_post_6) AS skill_post_6
    FROM part
    GROUP BY classroom_unit_id, student_group_id, side
)
SELECT d.classroom_unit_id, c.student_group_id, coalesce(c.part, 'all') AS part,
       coalesce(c.incomplete, 0) AS incomplete, coalesce(c.n, 0) AS n,
       c.pre_sum, c.pre_squares, c.post_sum, c.post_squares, c.gain_sum, c.gain_squares,
       coalesce(c.g_count, 0) AS g_count, c.g_sum,
       coalesce(c.at_ceiling, 0) AS at_ceiling, coalesce(c.little_room, 0) AS little_room,
       coalesce(c.target_met, 0) AS target_met,
       coalesce(c.beginning_beginning, 0) AS beginning_beginning,
       coalesce(c.beginning_developing, 0) AS beginning_developing,
       coalesce(c.beginning_proficient, 0) AS beginning_proficient,
       coalesce(c.developing_beginning, 0) AS developing_beginning,
       coalesce(c.developing_developing, 0) AS developing_developing,
       coalesce(c.developing_proficient, 0) AS developing_proficient,
       coalesce(c.proficient_beginning, 0) AS proficient_beginning,
       coalesce(c.proficient_developing, 0) AS proficient_developing,
       coalesce(c.proficient_proficient, 0) AS proficient_proficient,
       -- As long as the unit has skills, whatever the widest unit being rebuilt.
       coalesce((ARRAY[c.skill_n_1, c.skill_n_2, c.skill_n_3, c.skill_n_4, c.skill_n_5, c.skill_n_6])[1:c.skill_width], '{}') AS skill_counts,
       coalesce((ARRAY[c.skill_pre_1::bigint, c.skill_pre_2::bigint, c.skill_pre_3::bigint, c.skill_pre_4::bigint, c.skill_pre_5::bigint, c.skill_pre_6::bigint])[1:c.skill_width], '{}') AS skill_pre_points,
       coalesce((ARRAY[c.skill_post_1::bigint, c.skill_post_2::bigint, c.skill_post_3::bigint, c.skill_post_4::bigint, c.skill_post_5::bigint, c.skill_post_6::bigint])[1:c.skill_width], '{}') AS skill_post_points,
       CASE WHEN coalesce(c.part, 'all') = 'all' THEN d.digest ELSE '' END AS inputs_digest
FROM growth_class_digest d
LEFT JOIN classroom_unit_cell c ON c.classroom_unit_id = d.classroom_unit_id
WHERE d.is_changed

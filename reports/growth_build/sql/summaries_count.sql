-- How many summary rows the nodes of growth_node have, once written.
SELECT (SELECT count(*) FROM reports_classroomunitgrowthsummary s
        JOIN growth_node n ON n.level = 'classroom_unit' AND n.node_id = s.classroom_unit_id)
     + (SELECT count(*) FROM reports_schoolunitgrowthsummary s
        JOIN growth_node n ON n.level = 'school' AND n.node_id = s.school_id
                          AND n.unit_id = s.unit_id)
     + (SELECT count(*) FROM reports_districtunitgrowthsummary s
        JOIN growth_node n ON n.level = 'district' AND n.node_id = s.district_id
                          AND n.unit_id = s.unit_id)

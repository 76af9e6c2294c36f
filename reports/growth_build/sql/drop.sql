-- The rebuild's working tables go with the transaction (ON COMMIT DROP); they are dropped
-- here too, for a caller that rebuilds again in the same transaction (a test).
DROP TABLE IF EXISTS growth_student, growth_class_digest, growth_class_cell,
                     growth_unit_digest, growth_node_digest,
                     growth_node, growth_cell, growth_skill_cell, growth_flag, growth_summary

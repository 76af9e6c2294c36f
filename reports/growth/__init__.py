"""Growth, defined once: the arithmetic behind every growth number Thinslice shows.

Plain Python (the standard library, and SciPy for Student's t), so the tests, selectors and the
rebuild share one definition. Nothing here touches the database; callers pass plain values in
and get frozen dataclasses out. The rebuild (reports/growth_build/) applies these rules to many
students at once in SQL, each statement naming the rule it follows, and the tests compare its
rows with what these functions give.

The definitions follow "Growth, defined once" in the product brief:

* an assessment's percentage = points earned / max points of the skills actually scored × 100,
  absent and exempt skills left out; a fully absent assessment has no percentage;
* gain = post% − pre%; normalized gain g = (post% − pre%) / (100 − pre%), undefined ("at ceiling")
  when pre% = 100;
* the checkpoint trajectory (pre, formatives, post in week order) and its least-squares slope;
* growth target met when g ≥ target or post% ≥ proficiency cut;
* group statistics over complete students, and suppression of small student-group cells.

Threshold comparisons (target, proficiency cuts, Hake bands, "little room to grow") allow a
tolerance of 1e-9 so that a value which is exactly on a boundary in decimal arithmetic (for example
⟨g⟩ = 0.3 computed from float means) lands on the side of the boundary it belongs to. Points carry
at most 2 decimals, so genuinely different values are always much further apart than that.

Modules: ``rules`` (thresholds and named values), ``scores`` (assessment percentages),
``students`` (one student's growth), ``groups`` (group statistics), ``suppression`` (small
cells). Callers use the names below, as ``growth.student_growth`` and so on.
"""

from __future__ import annotations

from reports.growth.groups import (
    ConfidenceInterval,
    GroupSummary,
    SkillMeans,
    class_average_normalized_gain,
    confidence_t_quantiles,
    effect_size_d_av,
    group_summary,
    hake_band,
    mean_confidence_interval,
    student_t_quantile,
)
from reports.growth.rules import (
    BOUNDARY_TOLERANCE,
    CONFIDENCE_LEVEL,
    DEFAULT_DEVELOPING_CUT,
    DEFAULT_GROWTH_TARGET,
    DEFAULT_MINIMUM_N,
    DEFAULT_PROFICIENCY_CUT,
    HAKE_HIGH_FROM,
    HAKE_MEDIUM_FROM,
    LITTLE_ROOM_TO_GROW_PRE_PERCENTAGE,
    SUPPRESSED,
    HakeBand,
    Number,
    ProficiencyBand,
    ScoreStatus,
    Suppressed,
    reaches,
)
from reports.growth.scores import (
    SkillScore,
    assessment_percentage,
    skill_percentage,
    skill_percentages,
)
from reports.growth.students import (
    DEFAULT_SETTINGS,
    CheckpointPercentage,
    GrowthSettings,
    StudentGrowth,
    checkpoint_trajectory,
    is_growth_target_met,
    least_squares_slope,
    normalized_gain,
    proficiency_band,
    student_growth,
)
from reports.growth.suppression import (
    BreakdownCounts,
    BreakdownSuppression,
    CellSuppression,
    SkillGapBreakdown,
    StudentGroupBreakdown,
    breakdown_hierarchy_suppression,
    cells_to_suppress,
    is_breakdown_suppressed,
    nested_breakdown_suppression,
    student_group_breakdown,
)

__all__ = [
    "DEFAULT_GROWTH_TARGET",
    "DEFAULT_PROFICIENCY_CUT",
    "DEFAULT_DEVELOPING_CUT",
    "DEFAULT_MINIMUM_N",
    "LITTLE_ROOM_TO_GROW_PRE_PERCENTAGE",
    "HAKE_MEDIUM_FROM",
    "HAKE_HIGH_FROM",
    "CONFIDENCE_LEVEL",
    "BOUNDARY_TOLERANCE",
    "Number",
    "ScoreStatus",
    "ProficiencyBand",
    "HakeBand",
    "Suppressed",
    "SUPPRESSED",
    "reaches",
    "SkillScore",
    "skill_percentage",
    "skill_percentages",
    "assessment_percentage",
    "GrowthSettings",
    "DEFAULT_SETTINGS",
    "CheckpointPercentage",
    "StudentGrowth",
    "proficiency_band",
    "normalized_gain",
    "is_growth_target_met",
    "least_squares_slope",
    "checkpoint_trajectory",
    "student_growth",
    "student_t_quantile",
    "confidence_t_quantiles",
    "ConfidenceInterval",
    "SkillMeans",
    "GroupSummary",
    "hake_band",
    "class_average_normalized_gain",
    "mean_confidence_interval",
    "effect_size_d_av",
    "group_summary",
    "CellSuppression",
    "cells_to_suppress",
    "SkillGapBreakdown",
    "StudentGroupBreakdown",
    "student_group_breakdown",
    "is_breakdown_suppressed",
    "nested_breakdown_suppression",
    "BreakdownCounts",
    "BreakdownSuppression",
    "breakdown_hierarchy_suppression",
]

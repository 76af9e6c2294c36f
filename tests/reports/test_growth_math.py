"""The growth definitions, checked by hand-worked examples and by properties.

Everything in ``reports.growth`` is pure, so these tests need no database.
"""

from __future__ import annotations

import math
import statistics
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports.growth import (
    SUPPRESSED,
    CheckpointPercentage,
    GroupSummary,
    GrowthSettings,
    HakeBand,
    ProficiencyBand,
    SkillScore,
    StudentGrowth,
    Suppressed,
    assessment_percentage,
    cells_to_suppress,
    class_average_normalized_gain,
    effect_size_d_av,
    group_summary,
    hake_band,
    is_growth_target_met,
    least_squares_slope,
    mean_confidence_interval,
    normalized_gain,
    proficiency_band,
    skill_percentage,
    skill_percentages,
    student_group_breakdown,
    student_growth,
    student_t_quantile,
)

BEGINNING = ProficiencyBand.BEGINNING
DEVELOPING = ProficiencyBand.DEVELOPING
PROFICIENT = ProficiencyBand.PROFICIENT


def make_student(
    pre: float | None,
    post: float | None,
    *,
    pre_skills: dict[str, float] | None = None,
    post_skills: dict[str, float] | None = None,
) -> StudentGrowth:
    return student_growth(
        pre_percentage=pre,
        post_percentage=post,
        post_week=8,
        pre_skill_percentages=pre_skills,
        post_skill_percentages=post_skills,
    )


# --------------------------------------------------------------------------------------------
# Assessment percentages
# --------------------------------------------------------------------------------------------


def test_assessment_percentage_is_earned_over_max_of_scored_skills() -> None:
    scores = [
        SkillScore("A", 3, 4),
        SkillScore("B", None, 6, "absent"),
        SkillScore("C", 5, 6),
    ]
    # (3 + 5) / (4 + 6) × 100; the absent skill's 6 max points are left out.
    assert assessment_percentage(scores) == 80.0


def test_exempt_skills_are_left_out_of_the_percentage() -> None:
    scores = [SkillScore("A", 2, 4), SkillScore("B", None, 10, "exempt")]
    assert assessment_percentage(scores) == 50.0
    assert skill_percentages(scores) == {"A": 50.0}


def test_fully_absent_assessment_has_no_percentage() -> None:
    scores = [SkillScore("A", None, 4, "absent"), SkillScore("B", None, 6, "absent")]
    assert assessment_percentage(scores) is None
    assert skill_percentages(scores) == {}


def test_absent_and_exempt_only_assessment_has_no_percentage() -> None:
    scores = [SkillScore("A", None, 4, "absent"), SkillScore("B", None, 6, "exempt")]
    assert assessment_percentage(scores) is None


def test_assessment_without_skills_has_no_percentage() -> None:
    assert assessment_percentage([]) is None


def test_zero_points_is_a_percentage_not_missing() -> None:
    assert assessment_percentage([SkillScore("A", 0, 5)]) == 0.0


def test_skill_percentage_per_skill() -> None:
    assert skill_percentage(SkillScore("A", 3, 4)) == 75.0
    assert skill_percentage(SkillScore("A", None, 4, "absent")) is None
    scores = [SkillScore("A", 3, 4), SkillScore("B", 1, 3)]
    assert skill_percentages(scores) == pytest.approx({"A": 75.0, "B": 100 / 3})


def test_decimal_points_are_accepted_and_full_marks_give_exactly_100() -> None:
    scores = [
        SkillScore("A", Decimal("0.10"), Decimal("0.10")),
        SkillScore("B", 0.2, 0.2),
        SkillScore("C", Decimal("2.50"), Decimal("2.50")),
    ]
    assert assessment_percentage(scores) == 100.0


def test_decimal_points_give_decimal_exact_percentages() -> None:
    # 0.7 / 1 × 100 is 70.00000000000001 in naive float arithmetic; here it is exactly 70.
    assert assessment_percentage([SkillScore("A", 0.7, 1)]) == 70.0


@pytest.mark.parametrize(
    "score",
    [
        SkillScore("A", None, 4, "scored"),
        SkillScore("A", 2, 4, "absent"),
        SkillScore("A", 5, 4),
        SkillScore("A", -1, 4),
        SkillScore("A", 1, 0),
        SkillScore("A", 1, 4, "late"),
        SkillScore("A", float("nan"), 4),
    ],
)
def test_invalid_scores_are_refused(score: SkillScore) -> None:
    with pytest.raises(ValueError):
        assessment_percentage([score])


def test_a_skill_listed_twice_is_refused() -> None:
    with pytest.raises(ValueError):
        assessment_percentage([SkillScore("A", 1, 4), SkillScore("A", 2, 4)])


# --------------------------------------------------------------------------------------------
# One student's growth
# --------------------------------------------------------------------------------------------


def test_student_gain_and_normalized_gain() -> None:
    student = make_student(40, 70)
    assert student.is_complete
    assert student.gain == 30
    assert student.normalized_gain == pytest.approx(0.5)  # 30 / (100 − 40)
    assert student.is_target_met is True
    assert (student.pre_band, student.post_band) == (DEVELOPING, PROFICIENT)
    assert not student.is_at_ceiling
    assert not student.has_little_room_to_grow


def test_target_not_met_below_target_and_below_cut() -> None:
    student = make_student(50, 60)  # g = 10 / 50 = 0.2, post 60 < 70
    assert student.normalized_gain == pytest.approx(0.2)
    assert student.is_target_met is False


def test_target_met_exactly_at_growth_target() -> None:
    student = make_student(50, 65)  # g = 15 / 50 = 0.3
    assert student.is_target_met is True


def test_target_met_by_reaching_proficiency_cut_despite_small_g() -> None:
    student = make_student(65, 70)  # g = 5 / 35 ≈ 0.14, but post = 70
    assert student.normalized_gain is not None and student.normalized_gain < 0.3
    assert student.is_target_met is True


def test_pre_100_is_at_ceiling_without_error_or_number() -> None:
    student = make_student(100, 100)
    assert student.is_at_ceiling
    assert student.normalized_gain is None
    assert student.gain == 0
    assert student.has_little_room_to_grow
    assert student.is_target_met is True  # post 100 ≥ proficiency cut


def test_ceiling_student_below_cut_does_not_meet_target() -> None:
    student = make_student(100, 60)
    assert student.normalized_gain is None
    assert student.gain == -40
    assert student.is_target_met is False


def test_normalized_gain_helper_returns_none_only_at_ceiling() -> None:
    assert normalized_gain(100, 100) is None
    assert normalized_gain(100, 0) is None
    assert normalized_gain(99, 100) == pytest.approx(1.0)
    assert normalized_gain(95, 90) == pytest.approx(-1.0)


def test_pre_90_has_little_room_to_grow_but_is_not_at_ceiling() -> None:
    student = make_student(90, 95)
    assert student.has_little_room_to_grow
    assert not student.is_at_ceiling
    assert student.normalized_gain == pytest.approx(0.5)
    assert not make_student(89.99, 95).has_little_room_to_grow


def test_student_without_post_is_incomplete() -> None:
    student = student_growth(
        pre_percentage=30, post_percentage=None, post_week=8, formative_percentages=[(4, 50)]
    )
    assert not student.is_complete
    assert student.gain is None
    assert student.normalized_gain is None
    assert student.is_target_met is None
    assert student.pre_band is BEGINNING
    assert student.post_band is None
    assert student.slope_per_week == pytest.approx(20 / 3)  # (1, 30) and (4, 50)


def test_student_without_pre_is_incomplete() -> None:
    student = make_student(None, 80)
    assert not student.is_complete
    assert student.gain is None
    assert student.is_target_met is None
    assert not student.is_at_ceiling
    assert not student.has_little_room_to_grow


def test_target_uses_district_settings() -> None:
    settings = GrowthSettings(growth_target=0.5, proficiency_cut=80, developing_cut=50)
    student = student_growth(pre_percentage=40, post_percentage=65, post_week=8, settings=settings)
    # g = 25 / 60 ≈ 0.42 < 0.5 and post 65 < 80
    assert student.is_target_met is False
    assert (student.pre_band, student.post_band) == (BEGINNING, DEVELOPING)


def test_is_growth_target_met_or_rule() -> None:
    assert is_growth_target_met(normalized_gain=0.3, post_percentage=10)
    assert is_growth_target_met(normalized_gain=None, post_percentage=70)
    assert not is_growth_target_met(normalized_gain=None, post_percentage=69.99)
    assert not is_growth_target_met(normalized_gain=0.29, post_percentage=69.99)


def test_slope_with_uneven_weeks() -> None:
    student = student_growth(
        pre_percentage=40,
        pre_week=1,
        formative_percentages=[(5, 60), (2, 50)],
        post_percentage=75,
        post_week=8,
    )
    assert [point.week for point in student.trajectory] == [1, 2, 5, 8]
    assert [point.percentage for point in student.trajectory] == [40, 50, 60, 75]
    # mean week 4, mean % 56.25; Σ(dx·dy) = 48.75 + 12.5 + 3.75 + 75 = 140; Σdx² = 9+4+1+16 = 30
    assert student.slope_per_week == pytest.approx(14 / 3)


def test_absent_formative_is_left_out_of_trajectory() -> None:
    student = student_growth(
        pre_percentage=40,
        formative_percentages=[(3, None), (5, 55)],
        post_percentage=70,
        post_week=8,
    )
    assert [point.week for point in student.trajectory] == [1, 5, 8]


def test_slope_needs_two_points_in_different_weeks() -> None:
    assert least_squares_slope([]) is None
    assert least_squares_slope([CheckpointPercentage(1, 40)]) is None
    same_week = [CheckpointPercentage(3, 40), CheckpointPercentage(3, 60)]
    assert least_squares_slope(same_week) is None
    two_weeks = [CheckpointPercentage(1, 40), CheckpointPercentage(3, 60)]
    assert least_squares_slope(two_weeks) == pytest.approx(10.0)


def test_student_with_only_post_has_no_slope() -> None:
    assert make_student(None, 80).slope_per_week is None


@pytest.mark.parametrize("bad", [-0.01, 100.01, float("nan"), float("inf")])
def test_percentages_outside_0_to_100_are_refused(bad: float) -> None:
    with pytest.raises(ValueError):
        make_student(bad, 50)
    with pytest.raises(ValueError):
        student_growth(
            pre_percentage=50, post_percentage=60, post_week=8, formative_percentages=[(3, bad)]
        )


def test_settings_refuse_inverted_cuts() -> None:
    with pytest.raises(ValueError):
        GrowthSettings(proficiency_cut=40, developing_cut=70)


# --------------------------------------------------------------------------------------------
# Bands
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("percentage", "band"),
    [
        (0, BEGINNING),
        (39.99, BEGINNING),
        (40, DEVELOPING),
        (69.99, DEVELOPING),
        (70, PROFICIENT),
        (100, PROFICIENT),
    ],
)
def test_proficiency_band_boundaries(percentage: float, band: ProficiencyBand) -> None:
    assert proficiency_band(percentage) is band


def test_proficiency_band_uses_district_cuts() -> None:
    settings = GrowthSettings(proficiency_cut=80, developing_cut=50)
    assert proficiency_band(49.99, settings=settings) is BEGINNING
    assert proficiency_band(50, settings=settings) is DEVELOPING
    assert proficiency_band(79.99, settings=settings) is DEVELOPING
    assert proficiency_band(80, settings=settings) is PROFICIENT


@pytest.mark.parametrize(
    ("class_gain", "band"),
    [
        (-0.5, HakeBand.LOW),
        (0.0, HakeBand.LOW),
        (0.2999, HakeBand.LOW),
        (0.3, HakeBand.MEDIUM),
        (0.6999, HakeBand.MEDIUM),
        (0.7, HakeBand.HIGH),
        (1.0, HakeBand.HIGH),
    ],
)
def test_hake_band_boundaries(class_gain: float, band: HakeBand) -> None:
    assert hake_band(class_gain) is band


def test_class_gain_on_boundary_from_float_means_is_medium() -> None:
    # Mathematically exactly 0.3, but float rounding may land a hair below it.
    class_gain = class_average_normalized_gain(10.1, 10.1 + 0.3 * 89.9)
    assert class_gain == pytest.approx(0.3)
    assert class_gain is not None
    assert hake_band(class_gain) is HakeBand.MEDIUM


# --------------------------------------------------------------------------------------------
# Student's t quantile
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("degrees_of_freedom", "table_value"),
    [(1, 12.706), (2, 4.303), (10, 2.228), (30, 2.042), (100, 1.984)],
)
def test_t_quantile_matches_table_to_three_decimals(
    degrees_of_freedom: int, table_value: float
) -> None:
    assert round(student_t_quantile(0.975, degrees_of_freedom), 3) == table_value


def test_t_quantile_matches_closed_forms() -> None:
    for probability in (0.6, 0.9, 0.975, 0.999, 0.999999):
        # ν = 1 (Cauchy): tan(π(p − ½)); ν = 2: (2p − 1) / √(2p(1 − p))
        cauchy = math.tan(math.pi * (probability - 0.5))
        two = (2 * probability - 1) / math.sqrt(2 * probability * (1 - probability))
        assert student_t_quantile(probability, 1) == pytest.approx(cauchy, rel=1e-10)
        assert student_t_quantile(probability, 2) == pytest.approx(two, rel=1e-10)


def test_t_quantile_approaches_normal_for_large_degrees_of_freedom() -> None:
    normal = statistics.NormalDist().inv_cdf(0.975)
    assert student_t_quantile(0.975, 100_000) == pytest.approx(normal, rel=1e-4)
    assert student_t_quantile(0.975, 100_000) > normal


def test_t_quantile_is_symmetric_and_zero_at_half() -> None:
    assert student_t_quantile(0.5, 7) == 0.0
    assert student_t_quantile(0.025, 7) == pytest.approx(-student_t_quantile(0.975, 7))


@pytest.mark.parametrize(("probability", "degrees_of_freedom"), [(0, 5), (1, 5), (0.9, 0)])
def test_t_quantile_refuses_invalid_arguments(probability: float, degrees_of_freedom: int) -> None:
    with pytest.raises(ValueError):
        student_t_quantile(probability, degrees_of_freedom)


# --------------------------------------------------------------------------------------------
# Group summary
# --------------------------------------------------------------------------------------------


def test_group_summary_hand_worked() -> None:
    students = [
        make_student(40, 70, pre_skills={"A": 40, "B": 40}, post_skills={"A": 80, "B": 60}),
        make_student(60, 80, pre_skills={"A": 60}, post_skills={"A": 90, "B": 70}),
        make_student(50, 50, pre_skills={"A": 50, "B": 50}, post_skills={"A": 50, "B": 50}),
        make_student(30, None, pre_skills={"A": 30}),
    ]
    summary = group_summary(students)

    assert summary.n == 3
    assert summary.incomplete_count == 1
    assert summary.mean_pre_percentage == pytest.approx(50)
    assert summary.mean_post_percentage == pytest.approx(200 / 3)
    assert summary.mean_gain == pytest.approx(50 / 3)  # gains 30, 20, 0
    # ⟨g⟩ = (66.67 − 50) / (100 − 50)
    assert summary.class_average_normalized_gain == pytest.approx(1 / 3)
    assert summary.hake_band is HakeBand.MEDIUM
    assert summary.mean_individual_normalized_gain == pytest.approx(1 / 3)  # 0.5, 0.5, 0
    assert summary.at_ceiling_count == 0

    # gains' sample variance = (13.33² + 3.33² + 16.67²) / 2 = 700 / 3; se = √(700/3) / √3
    interval = summary.mean_gain_confidence_interval
    assert interval is not None
    half_width = 4.302652729749464 * math.sqrt(700 / 3) / math.sqrt(3)
    assert interval.lower == pytest.approx(50 / 3 - half_width)
    assert interval.upper == pytest.approx(50 / 3 + half_width)
    assert interval.level == 0.95

    # SD pre (40, 60, 50) = 10; SD post (70, 80, 50) = √(700/3)
    assert summary.effect_size_d_av == pytest.approx((50 / 3) / ((10 + math.sqrt(700 / 3)) / 2))

    assert summary.target_met_count == 2
    assert summary.share_meeting_target == pytest.approx(2 / 3)
    assert summary.pre_band_counts == {BEGINNING: 0, DEVELOPING: 3, PROFICIENT: 0}
    assert summary.post_band_counts == {BEGINNING: 0, DEVELOPING: 1, PROFICIENT: 2}
    assert summary.band_transition_counts[(DEVELOPING, PROFICIENT)] == 2
    assert summary.band_transition_counts[(DEVELOPING, DEVELOPING)] == 1
    assert sum(summary.band_transition_counts.values()) == 3
    assert summary.little_room_to_grow_count == 0

    # Skill B: the second student has no B at pre, so B is over students 1 and 3 only.
    assert set(summary.skill_means) == {"A", "B"}
    assert summary.skill_means["A"].n == 3
    assert summary.skill_means["A"].mean_pre_percentage == pytest.approx(50)
    assert summary.skill_means["A"].mean_post_percentage == pytest.approx(220 / 3)
    assert summary.skill_means["B"].n == 2
    assert summary.skill_means["B"].mean_pre_percentage == pytest.approx(45)
    assert summary.skill_means["B"].mean_post_percentage == pytest.approx(55)


def test_group_mean_individual_g_leaves_out_and_counts_ceiling_students() -> None:
    summary = group_summary([make_student(100, 100), make_student(100, 90), make_student(50, 75)])
    assert summary.at_ceiling_count == 2
    assert summary.mean_individual_normalized_gain == pytest.approx(0.5)
    assert summary.little_room_to_grow_count == 2
    # ⟨g⟩ = (88.33 − 83.33) / (100 − 83.33) = 0.3: the ceiling students still count here
    assert summary.class_average_normalized_gain == pytest.approx(0.3)
    assert summary.hake_band is HakeBand.MEDIUM


def test_group_all_at_ceiling_has_no_class_gain() -> None:
    summary = group_summary([make_student(100, 100), make_student(100, 80)])
    assert summary.mean_pre_percentage == 100
    assert summary.class_average_normalized_gain is None
    assert summary.hake_band is None
    assert summary.mean_individual_normalized_gain is None
    assert summary.at_ceiling_count == 2
    assert summary.mean_gain == pytest.approx(-10)


def test_group_of_one_has_no_confidence_interval_or_effect_size() -> None:
    summary = group_summary([make_student(40, 70)])
    assert summary.n == 1
    assert summary.mean_gain == 30
    assert summary.class_average_normalized_gain == pytest.approx(0.5)
    assert summary.mean_gain_confidence_interval is None
    assert summary.effect_size_d_av is None


def test_zero_sd_gives_no_effect_size() -> None:
    summary = group_summary([make_student(50, 60) for _ in range(5)])
    assert summary.effect_size_d_av is None
    interval = summary.mean_gain_confidence_interval
    assert interval is not None
    assert (interval.lower, interval.upper) == (pytest.approx(10), pytest.approx(10))


def test_effect_size_defined_when_only_one_sd_is_zero() -> None:
    # SD pre = 0, SD post = 10 → d_av = 10 / 5
    assert effect_size_d_av([50, 50, 50], [50, 60, 70]) == pytest.approx(2.0)


def test_confidence_interval_needs_two_values() -> None:
    assert mean_confidence_interval([]) is None
    assert mean_confidence_interval([5.0]) is None
    interval = mean_confidence_interval([0.0, 10.0])  # mean 5, s = √50, se = 5
    assert interval is not None
    assert interval.upper - 5 == pytest.approx(12.706204736174698 * 5)


def test_empty_group_summary_has_no_statistics() -> None:
    for students in ([], [make_student(40, None), make_student(None, 60)]):
        summary = group_summary(students)
        assert summary.n == 0
        assert summary.mean_pre_percentage is None
        assert summary.mean_gain is None
        assert summary.class_average_normalized_gain is None
        assert summary.share_meeting_target is None
        assert summary.mean_gain_confidence_interval is None
        assert summary.effect_size_d_av is None
        assert sum(summary.pre_band_counts.values()) == 0
        assert summary.skill_means == {}
    assert group_summary([make_student(40, None)]).incomplete_count == 1


# --------------------------------------------------------------------------------------------
# Suppression
# --------------------------------------------------------------------------------------------


def test_small_group_suppresses_its_complement_too() -> None:
    suppression = cells_to_suppress(total_n=30, part_ns=(5, 25))
    assert suppression.is_total_suppressed is False
    assert suppression.is_part_suppressed == (True, True)


def test_cells_at_minimum_n_are_shown() -> None:
    assert cells_to_suppress(total_n=20, part_ns=(10, 10)).is_part_suppressed == (False, False)
    assert cells_to_suppress(total_n=20, part_ns=(9, 11)).is_part_suppressed == (True, True)


def test_small_total_suppresses_everything() -> None:
    suppression = cells_to_suppress(total_n=8, part_ns=(5, 3))
    assert suppression.is_total_suppressed
    assert suppression.is_part_suppressed == (True, True)


def test_empty_group_is_suppressed() -> None:
    suppression = cells_to_suppress(total_n=30, part_ns=(0, 30))
    assert suppression.is_part_suppressed == (True, True)
    assert cells_to_suppress(total_n=5, part_ns=(0, 5), minimum_n=1).is_part_suppressed == (
        True,
        True,
    )


def test_minimum_n_is_a_setting() -> None:
    assert cells_to_suppress(total_n=10, part_ns=(5, 5), minimum_n=5).is_part_suppressed == (
        False,
        False,
    )
    assert cells_to_suppress(total_n=10, part_ns=(4, 6), minimum_n=5).is_part_suppressed == (
        True,
        True,
    )


def test_complementary_suppression_in_a_wider_partition_hides_the_smallest_shown_cell() -> None:
    suppression = cells_to_suppress(total_n=60, part_ns=(30, 25, 5))
    assert suppression.is_part_suppressed == (False, True, True)


def test_hidden_cells_together_must_reach_minimum_n() -> None:
    # Two empty cells are hidden, but their combined 0 would be recoverable: hide the 40 too.
    suppression = cells_to_suppress(total_n=40, part_ns=(40, 0, 0))
    assert suppression.is_part_suppressed == (True, True, True)


def test_cells_to_suppress_refuses_inconsistent_counts() -> None:
    with pytest.raises(ValueError):
        cells_to_suppress(total_n=30, part_ns=(10, 10))
    with pytest.raises(ValueError):
        cells_to_suppress(total_n=20, part_ns=(10, 10), minimum_n=0)


def _students(
    count: int, pre: float, post: float, **skills: tuple[float, float]
) -> list[StudentGrowth]:
    pre_skills = {code: values[0] for code, values in skills.items()}
    post_skills = {code: values[1] for code, values in skills.items()}
    return [
        make_student(pre, post, pre_skills=pre_skills, post_skills=post_skills)
        for _ in range(count)
    ]


def test_breakdown_gap_change_is_post_gap_minus_pre_gap() -> None:
    group_students = _students(9, 40, 70, A=(40, 70)) + _students(3, 40, 70, A=(40, 70), B=(0, 50))
    rest_students = _students(15, 60, 75, A=(60, 75), B=(60, 80))
    breakdown = student_group_breakdown(
        group=group_summary(group_students), rest=group_summary(rest_students)
    )
    assert isinstance(breakdown.group, GroupSummary)
    assert isinstance(breakdown.rest, GroupSummary)
    assert breakdown.pre_gap == pytest.approx(-20)
    assert breakdown.post_gap == pytest.approx(-5)
    assert breakdown.gap_change == pytest.approx(15)
    # Per-skill: A has 12 vs 15 students; B only 3 in the group, so B is hidden on both sides.
    skill_a = breakdown.skills["A"]
    assert skill_a.gap_change == pytest.approx((70 - 75) - (40 - 60))
    skill_b = breakdown.skills["B"]
    assert skill_b.group is SUPPRESSED
    assert skill_b.rest is SUPPRESSED
    assert skill_b.gap_change is SUPPRESSED
    # Unsuppressed per-skill means never travel inside the cells of a breakdown.
    assert breakdown.group.skill_means == {}
    assert breakdown.rest.skill_means == {}


def test_breakdown_with_small_group_is_suppressed_not_zero() -> None:
    breakdown = student_group_breakdown(
        group=group_summary(_students(4, 40, 70)), rest=group_summary(_students(20, 60, 75))
    )
    for value in (
        breakdown.group,
        breakdown.rest,
        breakdown.pre_gap,
        breakdown.post_gap,
        breakdown.gap_change,
    ):
        assert value is SUPPRESSED
        assert value != 0
        assert str(value) == "suppressed"
    assert breakdown.skills == {}


def test_breakdown_with_empty_group_is_suppressed() -> None:
    breakdown = student_group_breakdown(
        group=group_summary([]), rest=group_summary(_students(25, 60, 75))
    )
    assert breakdown.group is SUPPRESSED
    assert breakdown.rest is SUPPRESSED
    assert breakdown.gap_change is SUPPRESSED


def test_breakdown_cells_are_sized_by_complete_students() -> None:
    group_students = _students(8, 40, 70) + [make_student(40, None) for _ in range(5)]
    breakdown = student_group_breakdown(
        group=group_summary(group_students), rest=group_summary(_students(20, 60, 75))
    )
    assert breakdown.group is SUPPRESSED


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

skill_rows = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=10_000),  # max points in hundredths
        st.floats(min_value=0, max_value=1),  # share of max earned
        st.sampled_from(["scored", "scored", "absent", "exempt"]),
    ),
    max_size=6,
)


def _skill_scores(rows: list[tuple[int, float, str]], factor: Decimal) -> list[SkillScore]:
    scores = []
    for index, (max_hundredths, share, status) in enumerate(rows):
        maximum = Decimal(max_hundredths) / 100
        points = (maximum * Decimal(repr(share))).quantize(Decimal("0.01"))
        scores.append(
            SkillScore(
                skill_code=f"S{index}",
                points=points * factor if status == "scored" else None,
                max_points=maximum * factor,
                status=status,
            )
        )
    return scores


@given(rows=skill_rows, factor=st.decimals(min_value="0.01", max_value="1000", places=2))
def test_percentages_do_not_change_when_points_and_max_are_scaled(
    rows: list[tuple[int, float, str]], factor: Decimal
) -> None:
    original = _skill_scores(rows, Decimal(1))
    scaled = _skill_scores(rows, factor)
    original_percentage = assessment_percentage(original)
    scaled_percentage = assessment_percentage(scaled)
    assert (original_percentage is None) == (scaled_percentage is None)
    if original_percentage is not None and scaled_percentage is not None:
        assert math.isclose(original_percentage, scaled_percentage, rel_tol=1e-12, abs_tol=1e-12)
    original_skills = skill_percentages(original)
    scaled_skills = skill_percentages(scaled)
    assert original_skills.keys() == scaled_skills.keys()
    for code, percentage in original_skills.items():
        assert math.isclose(percentage, scaled_skills[code], rel_tol=1e-12, abs_tol=1e-12)


@given(rows=skill_rows, factor=st.floats(min_value=1e-3, max_value=1e3))
def test_percentages_do_not_change_when_float_points_are_scaled(
    rows: list[tuple[int, float, str]], factor: float
) -> None:
    original = [
        SkillScore(
            skill_code=f"S{index}",
            points=share * max_hundredths if status == "scored" else None,
            max_points=max_hundredths,
            status=status,
        )
        for index, (max_hundredths, share, status) in enumerate(rows)
    ]
    scaled = [
        SkillScore(
            skill_code=score.skill_code,
            points=None if score.points is None else float(score.points) * factor,
            max_points=float(score.max_points) * factor,
            status=score.status,
        )
        for score in original
    ]
    original_percentage = assessment_percentage(original)
    scaled_percentage = assessment_percentage(scaled)
    assert (original_percentage is None) == (scaled_percentage is None)
    if original_percentage is not None and scaled_percentage is not None:
        assert math.isclose(original_percentage, scaled_percentage, rel_tol=1e-9, abs_tol=1e-9)


percentages = st.one_of(
    st.just(100.0),
    st.just(90.0),
    st.just(0.0),
    st.floats(min_value=0, max_value=100),
    st.integers(min_value=0, max_value=10_000).map(lambda hundredths: hundredths / 100),
)


@given(pairs=st.lists(st.tuples(percentages, percentages), min_size=1, max_size=40))
def test_class_gain_is_none_exactly_when_mean_pre_is_100(
    pairs: list[tuple[float, float]],
) -> None:
    summary = group_summary([make_student(pre, post) for pre, post in pairs])
    assert summary.mean_pre_percentage is not None
    assert (summary.class_average_normalized_gain is None) == (summary.mean_pre_percentage == 100)


@given(
    pairs=st.lists(
        st.tuples(st.one_of(percentages, st.none()), st.one_of(percentages, st.none())),
        max_size=40,
    )
)
def test_mean_individual_g_leaves_out_exactly_the_ceiling_students(
    pairs: list[tuple[float | None, float | None]],
) -> None:
    summary = group_summary([make_student(pre, post) for pre, post in pairs])
    complete = [(pre, post) for pre, post in pairs if pre is not None and post is not None]
    outside_ceiling = [(pre, post) for pre, post in complete if pre != 100]
    assert summary.n == len(complete)
    assert summary.incomplete_count == len(pairs) - len(complete)
    assert summary.at_ceiling_count == len(complete) - len(outside_ceiling)
    if not outside_ceiling:
        assert summary.mean_individual_normalized_gain is None
    else:
        expected = statistics.fmean((post - pre) / (100 - pre) for pre, post in outside_ceiling)
        assert summary.mean_individual_normalized_gain == pytest.approx(expected)


def _hidden_value_is_recoverable(
    total_n: int, part_ns: list[int], hidden: tuple[bool, ...], index: int
) -> bool:
    """Can the hidden part ``index`` be pinned down from the total and the shown parts?

    The hidden parts are non-negative integers summing to total − shown. Part ``index`` is fixed
    only when no other solution gives it a different value: one hidden part, or a zero remainder.
    """
    remainder = total_n - sum(
        n for n, is_hidden in zip(part_ns, hidden, strict=True) if not is_hidden
    )
    hidden_count = sum(hidden)
    return hidden[index] and (hidden_count == 1 or remainder == 0)


@given(
    part_ns=st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=6),
    minimum_n=st.integers(min_value=1, max_value=25),
)
def test_suppressed_cells_cannot_be_recovered_from_shown_cells_and_total(
    part_ns: list[int], minimum_n: int
) -> None:
    total_n = sum(part_ns)
    suppression = cells_to_suppress(total_n=total_n, part_ns=part_ns, minimum_n=minimum_n)
    hidden = suppression.is_part_suppressed
    for index, n in enumerate(part_ns):
        if n < minimum_n:
            assert hidden[index]
    if suppression.is_total_suppressed:
        assert all(hidden)
        return
    assert total_n >= minimum_n
    for index in range(len(part_ns)):
        assert not _hidden_value_is_recoverable(total_n, part_ns, hidden, index)
    hidden_total = sum(n for n, is_hidden in zip(part_ns, hidden, strict=True) if is_hidden)
    if any(hidden):
        # Their combined value is recoverable, so it must itself be a large enough cell.
        assert hidden_total >= minimum_n


@given(
    group_n=st.integers(min_value=0, max_value=30),
    rest_n=st.integers(min_value=0, max_value=30),
    minimum_n=st.integers(min_value=1, max_value=15),
)
def test_group_breakdown_never_shows_one_side_alone_and_never_shows_suppressed_as_zero(
    group_n: int, rest_n: int, minimum_n: int
) -> None:
    breakdown = student_group_breakdown(
        group=group_summary(_students(group_n, 40, 70)),
        rest=group_summary(_students(rest_n, 60, 75)),
        minimum_n=minimum_n,
    )
    is_group_shown = isinstance(breakdown.group, GroupSummary)
    is_rest_shown = isinstance(breakdown.rest, GroupSummary)
    # Shown rest + shown total would give the group: both or neither.
    assert is_group_shown == is_rest_shown
    assert is_group_shown == (group_n >= minimum_n and rest_n >= minimum_n)
    values = [breakdown.group, breakdown.rest, breakdown.pre_gap, breakdown.post_gap]
    values.append(breakdown.gap_change)
    for value in values:
        if not is_group_shown:
            assert value is SUPPRESSED
        if isinstance(value, Suppressed):
            assert value != 0
            assert value
            assert str(value) == "suppressed"

"""Roll-ups and suppression across a hierarchy, checked without a database.

``moments_summary(merge of parts)`` must equal ``group_summary(all students)``, and hiding cells
of a classroom → school → district hierarchy must leave no hidden value recoverable from the
shown ones (checked by linear algebra over exact fractions).
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports import rollups
from reports.growth import (
    BAND_PAIRS,
    BreakdownCounts,
    BreakdownSuppression,
    GroupSummary,
    GrowthMoments,
    HakeBand,
    ProficiencyBand,
    RunningMoments,
    StudentGrowth,
    breakdown_hierarchy_suppression,
    cells_to_suppress,
    group_summary,
    is_breakdown_suppressed,
    moments_of,
    moments_summary,
    nested_breakdown_suppression,
    student_growth,
)


def student(
    pre: float | None, post: float | None, skills: dict[str, tuple[float, float]] | None = None
) -> StudentGrowth:
    skills = skills or {}
    return student_growth(
        pre_percentage=pre,
        post_percentage=post,
        post_week=8,
        pre_skill_percentages={code: values[0] for code, values in skills.items()},
        post_skill_percentages={code: values[1] for code, values in skills.items()},
    )


def assert_summaries_match(actual: GroupSummary, expected: GroupSummary) -> None:
    """Counts and bands exactly, floats to 1e-9 (they are summed in a different order)."""
    for name in (
        "n",
        "incomplete_count",
        "hake_band",
        "at_ceiling_count",
        "target_met_count",
        "little_room_to_grow_count",
        "pre_band_counts",
        "post_band_counts",
        "band_transition_counts",
    ):
        assert getattr(actual, name) == getattr(expected, name), name
    for name in (
        "mean_pre_percentage",
        "mean_post_percentage",
        "mean_gain",
        "class_average_normalized_gain",
        "mean_individual_normalized_gain",
        "effect_size_d_av",
        "share_meeting_target",
    ):
        value, wanted = getattr(actual, name), getattr(expected, name)
        assert (value is None) == (wanted is None), name
        if wanted is not None:
            assert value == pytest.approx(wanted, rel=1e-9, abs=1e-9), name
    interval, wanted_interval = (
        actual.mean_gain_confidence_interval,
        expected.mean_gain_confidence_interval,
    )
    assert (interval is None) == (wanted_interval is None)
    if interval is not None and wanted_interval is not None:
        assert interval.lower == pytest.approx(wanted_interval.lower, rel=1e-9, abs=1e-9)
        assert interval.upper == pytest.approx(wanted_interval.upper, rel=1e-9, abs=1e-9)
    assert actual.skill_means.keys() == expected.skill_means.keys()
    for code, means in expected.skill_means.items():
        assert actual.skill_means[code].n == means.n
        assert actual.skill_means[code].mean_pre_percentage == pytest.approx(
            means.mean_pre_percentage
        )
        assert actual.skill_means[code].mean_post_percentage == pytest.approx(
            means.mean_post_percentage
        )


# --------------------------------------------------------------------------------------------
# Moments: hand-worked
# --------------------------------------------------------------------------------------------


def test_school_summary_from_two_classrooms_moments_by_hand() -> None:
    # Class A: (40 → 70), (60 → 80), one incomplete. Class B: (50 → 50), (100 → 100).
    class_a = [student(40, 70, {"A": (50, 100)}), student(60, 80), student(30, None)]
    class_b = [student(50, 50, {"A": (0, 50)}), student(100, 100)]

    school = moments_summary(moments_of(class_a) + moments_of(class_b))

    assert school.n == 4
    assert school.incomplete_count == 1
    assert school.mean_pre_percentage == pytest.approx(62.5)  # (40 + 60 + 50 + 100) / 4
    assert school.mean_post_percentage == pytest.approx(75.0)  # (70 + 80 + 50 + 100) / 4
    assert school.mean_gain == pytest.approx(12.5)
    assert school.class_average_normalized_gain == pytest.approx(12.5 / 37.5)
    assert school.hake_band is HakeBand.MEDIUM
    # Individual g: 0.5, 0.5, 0; the student at 100 is left out and counted.
    assert school.mean_individual_normalized_gain == pytest.approx(1 / 3)
    assert school.at_ceiling_count == 1
    assert school.little_room_to_grow_count == 1
    # Target: 70 ≥ cut, 80 ≥ cut, g = 0 and 50 < cut, 100 ≥ cut.
    assert school.target_met_count == 3
    assert school.share_meeting_target == pytest.approx(0.75)
    # Gains 30, 20, 0, 0: mean 12.5, squared deviations 306.25 + 56.25 + 156.25 + 156.25 = 675,
    # SD = √(675 / 3) = 15; t(0.975, 3) = 3.182446, so the half width is 3.182446 × 15 / 2.
    half_width = 3.182446305284263 * 15 / 2
    interval = school.mean_gain_confidence_interval
    assert interval is not None
    assert interval.lower == pytest.approx(12.5 - half_width)
    assert interval.upper == pytest.approx(12.5 + half_width)
    assert school.skill_means["A"].n == 2
    assert school.skill_means["A"].mean_pre_percentage == pytest.approx(25.0)
    assert school.skill_means["A"].mean_post_percentage == pytest.approx(75.0)
    transitions = school.band_transition_counts
    assert transitions[(ProficiencyBand.DEVELOPING, ProficiencyBand.PROFICIENT)] == 2
    assert transitions[(ProficiencyBand.DEVELOPING, ProficiencyBand.DEVELOPING)] == 1
    assert transitions[(ProficiencyBand.PROFICIENT, ProficiencyBand.PROFICIENT)] == 1
    assert_summaries_match(school, group_summary(class_a + class_b))


def test_equal_scores_give_zero_sd_so_no_effect_size_after_merging() -> None:
    students = [student(100 / 3, 200 / 3) for _ in range(7)]
    merged = GrowthMoments()
    for one in students:
        merged = merged + moments_of([one])

    summary = moments_summary(merged)

    assert summary.effect_size_d_av is None
    assert group_summary(students).effect_size_d_av is None
    interval = summary.mean_gain_confidence_interval
    assert interval is not None and interval.lower == interval.upper


def test_empty_and_incomplete_only_groups_have_no_statistics() -> None:
    summary = moments_summary(moments_of([student(None, 50), student(40, None)]))

    assert summary.n == 0
    assert summary.incomplete_count == 2
    assert summary.mean_gain is None
    assert summary.share_meeting_target is None
    assert moments_summary(GrowthMoments()).n == 0


def test_one_student_has_no_interval_and_no_effect_size() -> None:
    summary = moments_summary(moments_of([student(20, 60)]))

    assert summary.mean_gain == pytest.approx(40)
    assert summary.mean_gain_confidence_interval is None
    assert summary.effect_size_d_av is None


def test_running_moments_merge_like_the_whole_sample() -> None:
    left = RunningMoments.of(1) + RunningMoments.of(2)
    right = RunningMoments.of(3) + RunningMoments.of(10)

    merged = left + right

    assert merged.count == 4
    assert merged.mean == pytest.approx(4.0)
    assert merged.sample_sd == pytest.approx(math.sqrt((9 + 4 + 1 + 36) / 3))
    assert RunningMoments.of(5).sample_sd is None


def test_moments_survive_json_exactly() -> None:
    moments = moments_of([student(100 / 3, 70.1, {"A": (1 / 3, 2 / 3)}), student(10, None)])

    assert GrowthMoments.from_json(moments.to_json()) == moments


# --------------------------------------------------------------------------------------------
# Moments: properties
# --------------------------------------------------------------------------------------------

percentages = st.one_of(
    st.sampled_from([0.0, 40.0, 70.0, 90.0, 100.0, 100 / 3]),
    st.floats(min_value=0, max_value=100, allow_nan=False),
)
skill_values = st.dictionaries(
    st.sampled_from(["A", "B", "C"]), st.tuples(percentages, percentages), max_size=3
)
students = st.builds(
    student,
    st.one_of(st.none(), percentages),
    st.one_of(st.none(), percentages),
    skill_values,
)


@given(groups=st.lists(st.lists(students, max_size=12), min_size=1, max_size=5))
def test_merged_moments_summarize_like_all_students_together(
    groups: list[list[StudentGrowth]],
) -> None:
    merged = GrowthMoments()
    for group in groups:
        merged = merged + moments_of(group)

    everyone = [one for group in groups for one in group]
    assert_summaries_match(moments_summary(merged), group_summary(everyone))


@given(value=percentages, gain=st.floats(min_value=0, max_value=1), count=st.integers(2, 40))
def test_identical_students_have_zero_sd_however_they_are_merged(
    value: float, gain: float, count: int
) -> None:
    post = value + (100 - value) * gain
    merged = GrowthMoments()
    for _ in range(count):
        merged = merged + moments_of([student(value, post)])

    assert merged.pre.sample_sd == 0
    assert merged.post.sample_sd == 0
    assert moments_summary(merged).effect_size_d_av is None


# --------------------------------------------------------------------------------------------
# Stored moments: the vector of a node's cells, and replacing one part of a sum
# --------------------------------------------------------------------------------------------


def test_a_nodes_cells_survive_the_stored_vector_exactly() -> None:
    cells = {
        rollups.ALL: moments_of([student(100 / 3, 70.1, {"A": (1 / 3, 2 / 3)}), student(10, None)]),
        rollups.group_key(7): moments_of([student(100 / 3, 70.1, {"A": (1 / 3, 2 / 3)})]),
        rollups.rest_key(7): moments_of([student(10, None)]),
    }

    vector = rollups.cells_vector(cells, [7], ["A", "B"])

    assert rollups.cells_from_vector(vector, [7], ["A", "B"]) == cells


@settings(deadline=None)
@given(
    kept=st.lists(students, max_size=12),
    old=st.lists(students, max_size=12),
    new=st.lists(students, max_size=12),
)
def test_replacing_one_part_of_a_sum_summarizes_like_adding_the_parts_again(
    kept: list[StudentGrowth], old: list[StudentGrowth], new: list[StudentGrowth]
) -> None:
    """A school after one class changed: stored − the class's old moments + its new ones is
    the school's summary, to float rounding, or is refused (then the caller adds up)."""
    total = moments_of(kept) + moments_of(old)
    try:
        replaced = rollups.cells_replace(
            {rollups.ALL: total},
            {rollups.ALL: moments_of(old)},
            {rollups.ALL: moments_of(new)},
            [rollups.ALL],
        )[rollups.ALL]
    except rollups.Cancelled:
        return
    assert_summaries_match(moments_summary(replaced), group_summary([*kept, *new]))


def test_replacing_a_class_gives_the_schools_moments_by_hand() -> None:
    kept = moments_of([student(50, 90), student(20, 60)])
    old = moments_of([student(40, 70)])
    new = moments_of([student(40, 80), student(100, 100)])

    replaced = rollups.cells_replace(
        {rollups.ALL: kept + old}, {rollups.ALL: old}, {rollups.ALL: new}, [rollups.ALL]
    )[rollups.ALL]

    # Pre 50, 20, 40, 100: mean 52.5, M2 = 6.25 + 1056.25 + 156.25 + 2256.25 = 3475.
    assert replaced.n == 4
    assert replaced.pre.mean == pytest.approx(52.5)
    assert replaced.pre.squared_deviations == pytest.approx(3475)
    assert replaced.at_ceiling_count == 1


def test_a_replacement_that_would_leave_equal_values_with_a_spread_is_refused() -> None:
    """Every remaining pre is 50, so the SD must be exactly 0; a difference of moments leaves
    rounding noise there instead, and is refused."""
    kept = moments_of([student(50, 60), student(50, 70)])
    old = moments_of([student(100 / 3, 80), student(91.3, 40)])
    new = moments_of([student(50, 90)])

    with pytest.raises(rollups.Cancelled):
        rollups.cells_replace(
            {rollups.ALL: kept + old}, {rollups.ALL: old}, {rollups.ALL: new}, [rollups.ALL]
        )


def test_band_pairs_cover_every_transition_once() -> None:
    assert len(set(BAND_PAIRS)) == len(ProficiencyBand) ** 2


# --------------------------------------------------------------------------------------------
# Suppression across levels: hand-worked
# --------------------------------------------------------------------------------------------


def test_a_lone_small_classroom_takes_the_next_smallest_with_it() -> None:
    # School: group 26, rest 37 (shown). Classroom 2's group (3) is small: hidden. Alone, it would
    # be school − the others, so the smallest other group cell (classroom 3, 11) is hidden too.
    flags = nested_breakdown_suppression(
        is_parent_suppressed=False, children=[(12, 13), (3, 10), (11, 14)], minimum_n=10
    )

    assert flags == (False, True, True)


def test_hidden_cells_that_sum_below_minimum_n_take_one_more() -> None:
    # Classrooms 2 and 3 are small (3 and 5); together 8 < 10, which school − classroom 1 shows.
    flags = nested_breakdown_suppression(
        is_parent_suppressed=False, children=[(12, 13), (3, 10), (5, 14)], minimum_n=10
    )

    assert flags == (True, True, True)


def test_a_hidden_school_hides_at_least_one_of_its_classrooms() -> None:
    flags = nested_breakdown_suppression(
        is_parent_suppressed=True, children=[(12, 13), (15, 20)], minimum_n=10
    )

    assert flags == (True, False)


def test_a_classroom_without_complete_students_protects_nothing() -> None:
    # Its total (0) is shown, so its hidden cells are known to be empty: the other classroom
    # must stand on its own.
    flags = nested_breakdown_suppression(
        is_parent_suppressed=False, children=[(12, 13), (0, 0)], minimum_n=10
    )

    assert flags == (False, True)


def test_no_small_cells_means_nothing_hidden() -> None:
    root = BreakdownCounts(
        40, 50, (BreakdownCounts(20, 25, ((BreakdownCounts(20, 25)),)), BreakdownCounts(20, 25))
    )

    result = breakdown_hierarchy_suppression(root, minimum_n=10)

    assert result == BreakdownSuppression(
        False,
        (BreakdownSuppression(False, (BreakdownSuppression(False),)), BreakdownSuppression(False)),
    )


def test_small_school_in_a_district_hides_a_second_school_and_one_of_its_classrooms() -> None:
    root = BreakdownCounts(
        34,
        70,
        (
            BreakdownCounts(4, 20, (BreakdownCounts(4, 20),)),
            BreakdownCounts(30, 50, (BreakdownCounts(12, 25), BreakdownCounts(18, 25))),
        ),
    )

    result = breakdown_hierarchy_suppression(root, minimum_n=10)

    assert not result.is_suppressed
    first, second = result.children
    assert first.is_suppressed and first.children[0].is_suppressed
    # The second school is hidden to protect the first; then its smaller classroom goes too.
    assert second.is_suppressed
    assert [child.is_suppressed for child in second.children] == [True, False]


def test_children_that_do_not_partition_the_parent_are_refused() -> None:
    with pytest.raises(ValueError):
        breakdown_hierarchy_suppression(BreakdownCounts(10, 10, (BreakdownCounts(5, 10),)))


@given(group_n=st.integers(0, 40), rest_n=st.integers(0, 40), minimum_n=st.integers(1, 15))
def test_pair_suppression_is_cells_to_suppress_for_two_parts(
    group_n: int, rest_n: int, minimum_n: int
) -> None:
    expected = cells_to_suppress(
        total_n=group_n + rest_n, part_ns=(group_n, rest_n), minimum_n=minimum_n
    )

    assert is_breakdown_suppressed(group_n=group_n, rest_n=rest_n, minimum_n=minimum_n) is any(
        expected.is_part_suppressed
    )


def test_pair_suppression_follows_cells_to_suppress() -> None:
    assert is_breakdown_suppressed(group_n=9, rest_n=30, minimum_n=10)
    assert is_breakdown_suppressed(group_n=30, rest_n=0, minimum_n=10)
    assert not is_breakdown_suppressed(group_n=10, rest_n=10, minimum_n=10)


# --------------------------------------------------------------------------------------------
# Suppression across levels: no hidden value can be recovered (linear algebra)
# --------------------------------------------------------------------------------------------


def _rank(rows: list[list[Fraction]]) -> int:
    matrix = [list(row) for row in rows]
    rank = 0
    columns = len(matrix[0]) if matrix else 0
    for column in range(columns):
        pivot = next((r for r in range(rank, len(matrix)) if matrix[r][column] != 0), None)
        if pivot is None:
            continue
        matrix[rank], matrix[pivot] = matrix[pivot], matrix[rank]
        for r in range(len(matrix)):
            if r != rank and matrix[r][column] != 0:
                factor = matrix[r][column] / matrix[rank][column]
                matrix[r] = [a - factor * b for a, b in zip(matrix[r], matrix[rank], strict=True)]
        rank += 1
    return rank


def _flatten(
    counts: BreakdownCounts, flags: BreakdownSuppression
) -> list[tuple[BreakdownCounts, BreakdownSuppression, int | None]]:
    """(node, its flags, index of its parent) in pre-order."""
    nodes: list[tuple[BreakdownCounts, BreakdownSuppression, int | None]] = []

    def visit(node: BreakdownCounts, flag: BreakdownSuppression, parent: int | None) -> None:
        index = len(nodes)
        nodes.append((node, flag, parent))
        for child, child_flag in zip(node.children, flag.children, strict=True):
            visit(child, child_flag, index)

    visit(counts, flags, None)
    return nodes


def recoverable_cells(counts: BreakdownCounts, flags: BreakdownSuppression) -> list[str]:
    """Hidden cells whose value follows from the shown ones and the table's sums.

    Unknowns: the hidden group and rest cells. Known: shown cells, every total (group + rest),
    and empty cells (a total of 0). Equations: each parent = sum of its children, per side.
    """
    nodes = _flatten(counts, flags)
    unknowns: dict[tuple[int, int], int] = {}
    for index, (node, flag, _parent) in enumerate(nodes):
        if flag.is_suppressed and node.group_n + node.rest_n > 0:
            for side in (0, 1):
                unknowns[(index, side)] = len(unknowns)
    if not unknowns:
        return []

    def row() -> list[Fraction]:
        return [Fraction(0)] * len(unknowns)

    equations: list[list[Fraction]] = []
    for index in range(len(nodes)):
        if (index, 0) in unknowns:  # group + rest = shown total
            equation = row()
            equation[unknowns[(index, 0)]] = Fraction(1)
            equation[unknowns[(index, 1)]] = Fraction(1)
            equations.append(equation)
        children = [i for i, (_n, _f, parent) in enumerate(nodes) if parent == index]
        if not children:
            continue
        for side in (0, 1):
            equation = row()
            if (index, side) in unknowns:
                equation[unknowns[(index, side)]] += 1
            for child in children:
                if (child, side) in unknowns:
                    equation[unknowns[(child, side)]] -= 1
            if any(equation):
                equations.append(equation)
    base_rank = _rank(equations)
    recoverable = []
    for (index, side), column in unknowns.items():
        probe = row()
        probe[column] = Fraction(1)
        if _rank([*equations, probe]) == base_rank:
            recoverable.append(f"node {index} side {side}")
    return recoverable


pair = st.tuples(st.integers(0, 25), st.integers(0, 25))


@st.composite
def hierarchies(draw: st.DrawFn) -> BreakdownCounts:
    schools = []
    for _ in range(draw(st.integers(1, 4))):
        classrooms = [BreakdownCounts(*draw(pair)) for _ in range(draw(st.integers(1, 4)))]
        schools.append(
            BreakdownCounts(
                sum(c.group_n for c in classrooms),
                sum(c.rest_n for c in classrooms),
                tuple(classrooms),
            )
        )
    return BreakdownCounts(
        sum(s.group_n for s in schools), sum(s.rest_n for s in schools), tuple(schools)
    )


# Exact linear algebra over fractions: slow on a shared machine, so no per-example deadline.
@settings(deadline=None)
@given(root=hierarchies(), minimum_n=st.sampled_from([1, 5, 10]))
def test_no_suppressed_cell_is_recoverable_from_shown_cells_and_totals(
    root: BreakdownCounts, minimum_n: int
) -> None:
    flags = breakdown_hierarchy_suppression(root, minimum_n=minimum_n)

    assert recoverable_cells(root, flags) == []
    for node, flag, _parent in _flatten(root, flags):
        if is_breakdown_suppressed(group_n=node.group_n, rest_n=node.rest_n, minimum_n=minimum_n):
            assert flag.is_suppressed, "a small cell is always hidden"
        children = list(zip(node.children, flag.children, strict=True))
        if flag.is_suppressed or not children:
            continue
        for side in (0, 1):
            hidden = [
                (child.group_n, child.rest_n)[side]
                for child, child_flag in children
                if child_flag.is_suppressed and child.group_n + child.rest_n > 0
            ]
            assert not hidden or sum(hidden) >= minimum_n, "a hidden sum would be too small"


def test_cells_hidden_for_another_reason_count_as_hidden() -> None:
    # A skill's cells in classroom 1 are big enough, but the classroom's whole cell is hidden;
    # alone they would be recoverable, so classroom 2's skill cells are hidden as well.
    flags = nested_breakdown_suppression(
        is_parent_suppressed=False,
        children=[(12, 13), (15, 20), (30, 30)],
        minimum_n=10,
        also_hidden=[True, False, False],
    )

    assert flags == (True, True, False)

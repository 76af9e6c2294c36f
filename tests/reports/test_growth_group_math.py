"""Group statistics and suppression across a hierarchy, checked without a database.

A school's ``group_summary`` is that of its classrooms' students together (worked by hand), and
hiding cells of a classroom → school → district hierarchy must leave no hidden value recoverable
from the shown ones (checked by linear algebra over exact fractions). The rebuild's SQL is
compared with these definitions in tests/reports/test_growth_summaries.py.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.growth import (
    BreakdownCounts,
    BreakdownSuppression,
    HakeBand,
    ProficiencyBand,
    StudentGrowth,
    breakdown_hierarchy_suppression,
    cells_to_suppress,
    group_summary,
    is_breakdown_suppressed,
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


# --------------------------------------------------------------------------------------------
# Group summaries: hand-worked
# --------------------------------------------------------------------------------------------


def test_school_summary_of_two_classrooms_by_hand() -> None:
    # Class A: (40 → 70), (60 → 80), one incomplete. Class B: (50 → 50), (100 → 100).
    class_a = [student(40, 70, {"A": (50, 100)}), student(60, 80), student(30, None)]
    class_b = [student(50, 50, {"A": (0, 50)}), student(100, 100)]

    school = group_summary(class_a + class_b)

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


def test_equal_scores_give_zero_sd_so_no_effect_size() -> None:
    summary = group_summary([student(100 / 3, 200 / 3) for _ in range(7)])

    assert summary.effect_size_d_av is None
    interval = summary.mean_gain_confidence_interval
    assert interval is not None and interval.lower == interval.upper


def test_empty_and_incomplete_only_groups_have_no_statistics() -> None:
    summary = group_summary([student(None, 50), student(40, None)])

    assert summary.n == 0
    assert summary.incomplete_count == 2
    assert summary.mean_gain is None
    assert summary.share_meeting_target is None
    assert group_summary([]).n == 0


def test_one_student_has_no_interval_and_no_effect_size() -> None:
    summary = group_summary([student(20, 60)])

    assert summary.mean_gain == pytest.approx(40)
    assert summary.mean_gain_confidence_interval is None
    assert summary.effect_size_d_av is None


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

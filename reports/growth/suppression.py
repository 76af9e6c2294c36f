"""Suppression of small student-group cells, alone and across a hierarchy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from reports.growth.groups import GroupSummary, SkillMeans
from reports.growth.rules import DEFAULT_MINIMUM_N, SUPPRESSED, Suppressed


@dataclass(frozen=True)
class CellSuppression:
    """Which cells of a partitioned total to hide: the total, and each part in the order given."""

    is_total_suppressed: bool
    is_part_suppressed: tuple[bool, ...]


def _is_too_small(n: int, minimum_n: int) -> bool:
    """A cell is too small to show when it has fewer than minimum n students (or none at all)."""
    return n == 0 or n < minimum_n


def cells_to_suppress(
    *, total_n: int, part_ns: Sequence[int], minimum_n: int = DEFAULT_MINIMUM_N
) -> CellSuppression:
    """Decide which cells to suppress when ``part_ns`` partition ``total_n`` (they sum to it).

    Rules:

    * primary: any cell (total or part) with n < minimum n, or n = 0, is suppressed;
    * a suppressed total hides every part (each part is at most the total, so all are small);
    * complementary: while the total is shown, the hidden parts must not be recoverable by
      subtracting shown parts from the total. That needs at least two hidden parts and, since their
      combined value is then recoverable, a combined n of at least minimum n. Until both hold, the
      smallest shown part is hidden as well.

    For the product's breakdown, group vs not-in-group, this means: if either part is small, both
    are hidden.
    """
    if minimum_n < 1:
        raise ValueError("minimum n must be at least 1")
    if total_n < 0 or any(part < 0 for part in part_ns):
        raise ValueError("counts cannot be negative")
    if sum(part_ns) != total_n:
        raise ValueError("the parts must partition the total (sum to it)")
    if _is_too_small(total_n, minimum_n):
        return CellSuppression(is_total_suppressed=True, is_part_suppressed=(True,) * len(part_ns))
    hidden = [_is_too_small(part, minimum_n) for part in part_ns]

    def needs_more_hidden() -> bool:
        hidden_count = sum(hidden)
        hidden_n = sum(part for part, is_hidden in zip(part_ns, hidden, strict=True) if is_hidden)
        return hidden_count > 0 and (hidden_count == 1 or hidden_n < minimum_n)

    while needs_more_hidden() and not all(hidden):
        shown_indices = [index for index, is_hidden in enumerate(hidden) if not is_hidden]
        smallest_shown = min(shown_indices, key=lambda index: (part_ns[index], index))
        hidden[smallest_shown] = True
    return CellSuppression(is_total_suppressed=False, is_part_suppressed=tuple(hidden))


@dataclass(frozen=True)
class SkillGapBreakdown:
    """One skill of a group breakdown: per-cell skill means and gaps, each maybe suppressed."""

    group: SkillMeans | Suppressed
    rest: SkillMeans | Suppressed
    pre_gap: float | Suppressed
    post_gap: float | Suppressed
    gap_change: float | Suppressed


@dataclass(frozen=True)
class StudentGroupBreakdown:
    """A student group G against the rest of the students (not in G), which together make the total.

    ``pre_gap``/``post_gap`` = mean(G) − mean(not G) in percentage points; ``gap_change`` =
    post gap − pre gap. Cells and gaps are ``SUPPRESSED`` when a cell is too small; per-skill
    values live in ``skills`` (suppressed per skill), so shown cells carry no ``skill_means``.
    """

    group: GroupSummary | Suppressed
    rest: GroupSummary | Suppressed
    pre_gap: float | None | Suppressed
    post_gap: float | None | Suppressed
    gap_change: float | None | Suppressed
    skills: Mapping[str, SkillGapBreakdown] = field(default_factory=dict)


def _gap(group_mean: float | None, rest_mean: float | None) -> float | None:
    if group_mean is None or rest_mean is None:
        return None
    return group_mean - rest_mean


def _skill_gap_breakdown(
    group: SkillMeans | None, rest: SkillMeans | None, *, minimum_n: int
) -> SkillGapBreakdown:
    group_n = 0 if group is None else group.n
    rest_n = 0 if rest is None else rest.n
    suppression = cells_to_suppress(
        total_n=group_n + rest_n, part_ns=(group_n, rest_n), minimum_n=minimum_n
    )
    is_group_hidden, is_rest_hidden = suppression.is_part_suppressed
    if group is None or rest is None or is_group_hidden or is_rest_hidden:
        return SkillGapBreakdown(
            group=SUPPRESSED if is_group_hidden or group is None else group,
            rest=SUPPRESSED if is_rest_hidden or rest is None else rest,
            pre_gap=SUPPRESSED,
            post_gap=SUPPRESSED,
            gap_change=SUPPRESSED,
        )
    pre_gap = group.mean_pre_percentage - rest.mean_pre_percentage
    post_gap = group.mean_post_percentage - rest.mean_post_percentage
    return SkillGapBreakdown(
        group=group, rest=rest, pre_gap=pre_gap, post_gap=post_gap, gap_change=post_gap - pre_gap
    )


def student_group_breakdown(
    *, group: GroupSummary, rest: GroupSummary, minimum_n: int = DEFAULT_MINIMUM_N
) -> StudentGroupBreakdown:
    """Apply small-cell suppression to a group-vs-rest breakdown and compute the gap change.

    Cells are sized by their complete students (the ones statistics are computed from); G and
    not-G partition the total, so if either is below minimum n (or empty) both are suppressed, and
    so are the gaps and the gap change. Per-skill means and gaps are suppressed the same way, per
    skill, using the number of students with that skill at pre and post.
    """
    suppression = cells_to_suppress(
        total_n=group.n + rest.n, part_ns=(group.n, rest.n), minimum_n=minimum_n
    )
    is_group_hidden, is_rest_hidden = suppression.is_part_suppressed
    if is_group_hidden or is_rest_hidden:
        return StudentGroupBreakdown(
            group=SUPPRESSED if is_group_hidden else replace(group, skill_means={}),
            rest=SUPPRESSED if is_rest_hidden else replace(rest, skill_means={}),
            pre_gap=SUPPRESSED,
            post_gap=SUPPRESSED,
            gap_change=SUPPRESSED,
        )
    pre_gap = _gap(group.mean_pre_percentage, rest.mean_pre_percentage)
    post_gap = _gap(group.mean_post_percentage, rest.mean_post_percentage)
    gap_change = None if pre_gap is None or post_gap is None else post_gap - pre_gap
    skill_codes = sorted(set(group.skill_means) | set(rest.skill_means))
    return StudentGroupBreakdown(
        group=replace(group, skill_means={}),
        rest=replace(rest, skill_means={}),
        pre_gap=pre_gap,
        post_gap=post_gap,
        gap_change=gap_change,
        skills={
            code: _skill_gap_breakdown(
                group.skill_means.get(code), rest.skill_means.get(code), minimum_n=minimum_n
            )
            for code in skill_codes
        },
    )


def is_breakdown_suppressed(*, group_n: int, rest_n: int, minimum_n: int) -> bool:
    """Whether a group-vs-rest pair is hidden on its own: either cell below minimum n (or empty).

    The total (group + rest) is always shown, so hiding one cell means hiding both. This is
    ``cells_to_suppress`` for two parts (a test checks they agree), written out because roll-ups
    ask it for every cell of a district.
    """
    if minimum_n < 1:
        raise ValueError("minimum n must be at least 1")
    if group_n < 0 or rest_n < 0:
        raise ValueError("counts cannot be negative")
    return group_n < minimum_n or rest_n < minimum_n


def nested_breakdown_suppression(
    *,
    is_parent_suppressed: bool,
    children: Sequence[tuple[int, int]],
    minimum_n: int = DEFAULT_MINIMUM_N,
    also_hidden: Sequence[bool] | None = None,
) -> tuple[bool, ...]:
    """Which children's group-vs-rest pairs to hide, given whether their parent's pair is hidden.

    ``children`` are (group n, rest n) of cells that partition the parent (classroom units of a
    school × unit, schools of a district × unit), so the parent's group cell is the sum of the
    children's group cells, and likewise for the rest. Rules, applied until they all hold:

    * primary: a child whose pair is too small on its own (``is_breakdown_suppressed``) is hidden,
      and so is one marked in ``also_hidden`` (e.g. a skill's cells when the whole cell is hidden);
    * a shown parent: on each side (group, rest) either no child is hidden, or at least two are
      and together they hold at least minimum n students; otherwise the hidden values (or a
      too-small sum of them) would follow from parent − shown children;
    * a hidden parent: at least one child is hidden, or the children would add up to it.

    To satisfy a rule the smallest shown child on the failing side is hidden too (both its
    cells, as its total is shown). A child without any complete student holds nothing to
    protect and nothing to recover; it is hidden but does not count towards the rules.
    """
    if minimum_n < 1:
        raise ValueError("minimum n must be at least 1")
    if also_hidden is not None and len(also_hidden) != len(children):
        raise ValueError("also_hidden must have one flag per child")
    hidden = [
        is_breakdown_suppressed(group_n=group_n, rest_n=rest_n, minimum_n=minimum_n)
        or (also_hidden is not None and also_hidden[index])
        for index, (group_n, rest_n) in enumerate(children)
    ]
    counted = [index for index, (group_n, rest_n) in enumerate(children) if group_n + rest_n > 0]

    def failing_side() -> int | None:
        hidden_counted = [index for index in counted if hidden[index]]
        for side in (0, 1):
            if is_parent_suppressed:
                if counted and not hidden_counted:
                    return side
                continue
            hidden_n = sum(children[index][side] for index in hidden_counted)
            if hidden_counted and (len(hidden_counted) < 2 or hidden_n < minimum_n):
                return side
        return None

    while (side := failing_side()) is not None:
        shown = [index for index in counted if not hidden[index]]
        if not shown:
            break  # everything that counts is hidden already
        hidden[min(shown, key=lambda index: (children[index][side], index))] = True
    return tuple(hidden)


@dataclass(frozen=True)
class BreakdownCounts:
    """Complete students in a student group and in the rest, in one cell of a hierarchy; the
    children (e.g. a school's classroom units) partition it."""

    group_n: int
    rest_n: int
    children: tuple[BreakdownCounts, ...] = ()


@dataclass(frozen=True)
class BreakdownSuppression:
    """Whether a cell's group-vs-rest pair is hidden, with the same for each child."""

    is_suppressed: bool
    children: tuple[BreakdownSuppression, ...] = ()


def breakdown_hierarchy_suppression(
    root: BreakdownCounts, *, minimum_n: int = DEFAULT_MINIMUM_N
) -> BreakdownSuppression:
    """Suppress a whole hierarchy top-down with ``nested_breakdown_suppression`` at each level.

    Raises ValueError when children do not partition their parent.
    """

    def below(node: BreakdownCounts, is_suppressed: bool) -> BreakdownSuppression:
        if node.children and (
            sum(child.group_n for child in node.children) != node.group_n
            or sum(child.rest_n for child in node.children) != node.rest_n
        ):
            raise ValueError("the children must partition their parent")
        flags = nested_breakdown_suppression(
            is_parent_suppressed=is_suppressed,
            children=[(child.group_n, child.rest_n) for child in node.children],
            minimum_n=minimum_n,
        )
        return BreakdownSuppression(
            is_suppressed=is_suppressed,
            children=tuple(
                below(child, flag) for child, flag in zip(node.children, flags, strict=True)
            ),
        )

    return below(
        root,
        is_breakdown_suppressed(group_n=root.group_n, rest_n=root.rest_n, minimum_n=minimum_n),
    )

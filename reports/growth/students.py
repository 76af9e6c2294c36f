"""One student's growth over a unit: percentages, gain, g, bands, trajectory."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from reports.growth.rules import (
    DEFAULT_DEVELOPING_CUT,
    DEFAULT_GROWTH_TARGET,
    DEFAULT_PROFICIENCY_CUT,
    LITTLE_ROOM_TO_GROW_PRE_PERCENTAGE,
    ProficiencyBand,
    reaches,
)


@dataclass(frozen=True)
class GrowthSettings:
    """A district's growth settings: target for g, and the developing and proficiency cuts (%)."""

    growth_target: float = DEFAULT_GROWTH_TARGET
    proficiency_cut: float = DEFAULT_PROFICIENCY_CUT
    developing_cut: float = DEFAULT_DEVELOPING_CUT

    def __post_init__(self) -> None:
        if not math.isfinite(self.growth_target):
            raise ValueError("growth target must be finite")
        if not 0 <= self.developing_cut <= self.proficiency_cut <= 100:
            raise ValueError("cuts must satisfy 0 ≤ developing cut ≤ proficiency cut ≤ 100")


DEFAULT_SETTINGS = GrowthSettings()


@dataclass(frozen=True)
class CheckpointPercentage:
    """One point of a checkpoint trajectory: a week of the unit and the percentage that week."""

    week: float
    percentage: float


@dataclass(frozen=True)
class StudentGrowth:
    """One student's growth in a classroom unit.

    ``is_complete`` is False when pre% or post% is missing; then gain, normalized gain and
    ``is_target_met`` are None, but the student still counts (``GroupSummary.incomplete_count``).

    Two different "ceiling" ideas, kept apart on purpose:

    * ``is_at_ceiling``: pre% = 100, so g = (post − pre) / (100 − pre) is undefined and
      ``normalized_gain`` is None (never a number, never an error);
    * ``has_little_room_to_grow``: pre% ≥ 90, a flag for reading group results.
    """

    pre_percentage: float | None
    post_percentage: float | None
    gain: float | None
    normalized_gain: float | None
    is_at_ceiling: bool
    has_little_room_to_grow: bool
    is_target_met: bool | None
    pre_band: ProficiencyBand | None
    post_band: ProficiencyBand | None
    trajectory: tuple[CheckpointPercentage, ...]
    slope_per_week: float | None
    pre_skill_percentages: Mapping[str, float] = field(default_factory=dict)
    post_skill_percentages: Mapping[str, float] = field(default_factory=dict)

    @property
    def is_complete(self) -> bool:
        """True when both pre% and post% exist, so the student enters gain statistics."""
        return self.pre_percentage is not None and self.post_percentage is not None


def _checked_percentage(value: float | None, *, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not math.isfinite(value) or not 0 <= value <= 100:
        raise ValueError(f"{what} must be a percentage in 0..100, got {value!r}")
    return float(value)


def _checked_skill_percentages(percentages: Mapping[str, float] | None) -> dict[str, float]:
    checked: dict[str, float] = {}
    for code, percentage in (percentages or {}).items():
        value = _checked_percentage(percentage, what=f"skill {code} percentage")
        if value is not None:
            checked[code] = value
    return checked


def proficiency_band(
    percentage: float, *, settings: GrowthSettings = DEFAULT_SETTINGS
) -> ProficiencyBand:
    """Band of a percentage: below the developing cut "beginning"; from the developing cut up to
    (not including) the proficiency cut "developing"; the proficiency cut and above "proficient".
    """
    if reaches(percentage, settings.proficiency_cut):
        return ProficiencyBand.PROFICIENT
    if reaches(percentage, settings.developing_cut):
        return ProficiencyBand.DEVELOPING
    return ProficiencyBand.BEGINNING


def normalized_gain(pre_percentage: float, post_percentage: float) -> float | None:
    """g = (post − pre) / (100 − pre); None when pre = 100 (at ceiling: undefined, not an error)."""
    if pre_percentage == 100:
        return None
    return (post_percentage - pre_percentage) / (100 - pre_percentage)


def is_growth_target_met(
    *,
    normalized_gain: float | None,
    post_percentage: float,
    settings: GrowthSettings = DEFAULT_SETTINGS,
) -> bool:
    """Target met when g ≥ the district target OR post% ≥ the proficiency cut.

    A student at ceiling (g undefined) meets it exactly when post% ≥ the proficiency cut.
    """
    if reaches(post_percentage, settings.proficiency_cut):
        return True
    return normalized_gain is not None and reaches(normalized_gain, settings.growth_target)


def least_squares_slope(points: Sequence[CheckpointPercentage]) -> float | None:
    """Least-squares slope of percentage on week, in percentage points per week.

    None with fewer than 2 points or when every point is in the same week (no slope exists).
    """
    if len(points) < 2:
        return None
    mean_week = statistics.fmean(point.week for point in points)
    mean_percentage = statistics.fmean(point.percentage for point in points)
    week_spread = math.fsum((point.week - mean_week) ** 2 for point in points)
    if week_spread == 0:
        return None
    covariation = math.fsum(
        (point.week - mean_week) * (point.percentage - mean_percentage) for point in points
    )
    return covariation / week_spread


def checkpoint_trajectory(
    *,
    pre_percentage: float | None,
    pre_week: float,
    formative_percentages: Iterable[tuple[float, float | None]],
    post_percentage: float | None,
    post_week: float,
) -> tuple[CheckpointPercentage, ...]:
    """Pre, formatives and post as (week, percentage) in week order; missing percentages skipped.

    Within one week the order given is kept (pre first, post last).
    """
    points: list[CheckpointPercentage] = []
    if pre_percentage is not None:
        points.append(CheckpointPercentage(week=pre_week, percentage=pre_percentage))
    for week, percentage in formative_percentages:
        checked = _checked_percentage(percentage, what="formative percentage")
        if checked is not None:
            points.append(CheckpointPercentage(week=week, percentage=checked))
    if post_percentage is not None:
        points.append(CheckpointPercentage(week=post_week, percentage=post_percentage))
    for point in points:
        if not math.isfinite(point.week):
            raise ValueError(f"week must be finite, got {point.week!r}")
    return tuple(sorted(points, key=lambda point: point.week))


def student_growth(
    *,
    pre_percentage: float | None,
    post_percentage: float | None,
    post_week: float,
    pre_week: float = 1,
    formative_percentages: Iterable[tuple[float, float | None]] = (),
    settings: GrowthSettings = DEFAULT_SETTINGS,
    pre_skill_percentages: Mapping[str, float] | None = None,
    post_skill_percentages: Mapping[str, float] | None = None,
) -> StudentGrowth:
    """Growth of one student in one classroom unit, from their assessment percentages.

    Rules: gain = post − pre; g = (post − pre) / (100 − pre), None and ``is_at_ceiling`` when
    pre = 100; target met when g ≥ target or post ≥ proficiency cut; incomplete (no pre or no post)
    gives None for gain, g and target, but the trajectory and slope use whatever exists.
    ``formative_percentages`` are (week, percentage or None for a fully absent checkpoint).
    """
    pre = _checked_percentage(pre_percentage, what="pre percentage")
    post = _checked_percentage(post_percentage, what="post percentage")
    trajectory = checkpoint_trajectory(
        pre_percentage=pre,
        pre_week=pre_week,
        formative_percentages=formative_percentages,
        post_percentage=post,
        post_week=post_week,
    )
    gain: float | None = None
    gain_normalized: float | None = None
    target_met: bool | None = None
    if pre is not None and post is not None:
        gain = post - pre
        gain_normalized = normalized_gain(pre, post)
        target_met = is_growth_target_met(
            normalized_gain=gain_normalized, post_percentage=post, settings=settings
        )
    return StudentGrowth(
        pre_percentage=pre,
        post_percentage=post,
        gain=gain,
        normalized_gain=gain_normalized,
        is_at_ceiling=pre == 100,
        has_little_room_to_grow=pre is not None
        and reaches(pre, LITTLE_ROOM_TO_GROW_PRE_PERCENTAGE),
        is_target_met=target_met,
        pre_band=None if pre is None else proficiency_band(pre, settings=settings),
        post_band=None if post is None else proficiency_band(post, settings=settings),
        trajectory=trajectory,
        slope_per_week=least_squares_slope(trajectory),
        pre_skill_percentages=_checked_skill_percentages(pre_skill_percentages),
        post_skill_percentages=_checked_skill_percentages(post_skill_percentages),
    )

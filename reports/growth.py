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
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

DEFAULT_GROWTH_TARGET = 0.30
DEFAULT_PROFICIENCY_CUT = 70.0
DEFAULT_DEVELOPING_CUT = 40.0
DEFAULT_MINIMUM_N = 10
# Product constant, not a district setting: a pre% this high leaves "little room to grow".
LITTLE_ROOM_TO_GROW_PRE_PERCENTAGE = 90.0
HAKE_MEDIUM_FROM = 0.3
HAKE_HIGH_FROM = 0.7
CONFIDENCE_LEVEL = 0.95

_BOUNDARY_TOLERANCE = 1e-9
BOUNDARY_TOLERANCE = _BOUNDARY_TOLERANCE  # for the rebuild's SQL (reports/growth_build/)
_HUNDRED = Decimal(100)

Number = int | float | Decimal


class ScoreStatus(StrEnum):
    """How a skill on an assessment was recorded; mirrors ``assessments.models.ScoreStatus``."""

    SCORED = "scored"
    ABSENT = "absent"
    EXEMPT = "exempt"


class ProficiencyBand(StrEnum):
    """Where a percentage falls against the district's developing and proficiency cuts."""

    BEGINNING = "beginning"
    DEVELOPING = "developing"
    PROFICIENT = "proficient"


class HakeBand(StrEnum):
    """Hake (1998) band of a class-average normalized gain: low < 0.3 ≤ medium < 0.7 ≤ high."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Suppressed(StrEnum):
    """Marker for a value hidden because its cell has too few students.

    A distinct type (rendering as "suppressed") so that a hidden value can never be mistaken for,
    summed as, or formatted as 0.
    """

    SUPPRESSED = "suppressed"


SUPPRESSED = Suppressed.SUPPRESSED


# --------------------------------------------------------------------------------------------
# Assessment percentages
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SkillScore:
    """One student's result on one skill of one assessment.

    ``points`` is set exactly when ``status`` is "scored" (the same rule as the Score table's
    check constraint); ``max_points`` is the skill's positive maximum on that assessment.
    """

    skill_code: str
    points: Number | None
    max_points: Number
    status: ScoreStatus | str = ScoreStatus.SCORED


def _to_decimal(value: Number, *, what: str) -> Decimal:
    """Convert points to Decimal exactly as a person reads them (0.1 stays 0.1)."""
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number, not a bool")
    converted = value if isinstance(value, Decimal) else Decimal(repr(value))
    if not converted.is_finite():
        raise ValueError(f"{what} must be finite, got {value!r}")
    return converted


def _checked_status(score: SkillScore) -> ScoreStatus:
    """Return the score's status, refusing combinations the Score table would refuse."""
    try:
        status = ScoreStatus(score.status)
    except ValueError:
        raise ValueError(f"unknown status {score.status!r} for skill {score.skill_code}") from None
    if status is ScoreStatus.SCORED and score.points is None:
        raise ValueError(f"skill {score.skill_code} is scored but has no points")
    if status is not ScoreStatus.SCORED and score.points is not None:
        raise ValueError(f"skill {score.skill_code} is {status} but has points")
    return status


def _scored_points(score: SkillScore) -> tuple[Decimal, Decimal] | None:
    """(points, max points) of a scored skill, None for absent or exempt; validates the range."""
    status = _checked_status(score)
    maximum = _to_decimal(score.max_points, what="max points")
    if maximum <= 0:
        raise ValueError(f"skill {score.skill_code} has max points {maximum}, must be positive")
    if status is not ScoreStatus.SCORED or score.points is None:
        return None
    earned = _to_decimal(score.points, what="points")
    if not 0 <= earned <= maximum:
        raise ValueError(f"skill {score.skill_code} has {earned} points, outside 0..{maximum}")
    return earned, maximum


def skill_percentage(score: SkillScore) -> float | None:
    """Percentage on one skill: points / max points × 100; None when absent or exempt."""
    scored = _scored_points(score)
    if scored is None:
        return None
    earned, maximum = scored
    return float(earned * _HUNDRED / maximum)


def skill_percentages(scores: Iterable[SkillScore]) -> dict[str, float]:
    """Per-skill percentages of one assessment, keyed by skill code; absent/exempt skills omitted.

    Raises ValueError if a skill code appears twice (an assessment measures each skill once).
    """
    percentages: dict[str, float] = {}
    seen: set[str] = set()
    for score in scores:
        if score.skill_code in seen:
            raise ValueError(f"skill {score.skill_code} listed twice in one assessment")
        seen.add(score.skill_code)
        percentage = skill_percentage(score)
        if percentage is not None:
            percentages[score.skill_code] = percentage
    return percentages


def assessment_percentage(scores: Iterable[SkillScore]) -> float | None:
    """A student's percentage on one assessment.

    Rule: points earned / max points of the skills actually scored × 100. Absent and exempt skills
    are left out of both sums; when no skill was scored the assessment has no percentage (None).
    The sums are exact (Decimal), so full marks give exactly 100.
    """
    earned_total = Decimal(0)
    maximum_total = Decimal(0)
    seen: set[str] = set()
    for score in scores:
        if score.skill_code in seen:
            raise ValueError(f"skill {score.skill_code} listed twice in one assessment")
        seen.add(score.skill_code)
        scored = _scored_points(score)
        if scored is None:
            continue
        earned, maximum = scored
        earned_total += earned
        maximum_total += maximum
    if maximum_total == 0:
        return None
    return float(earned_total * _HUNDRED / maximum_total)


# --------------------------------------------------------------------------------------------
# One student's growth
# --------------------------------------------------------------------------------------------


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


def _reaches(value: float, threshold: float) -> bool:
    """value ≥ threshold, counting a float-rounding miss of at most 1e-9 as on the boundary."""
    return value >= threshold - _BOUNDARY_TOLERANCE


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
    if _reaches(percentage, settings.proficiency_cut):
        return ProficiencyBand.PROFICIENT
    if _reaches(percentage, settings.developing_cut):
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
    if _reaches(post_percentage, settings.proficiency_cut):
        return True
    return normalized_gain is not None and _reaches(normalized_gain, settings.growth_target)


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
        and _reaches(pre, LITTLE_ROOM_TO_GROW_PRE_PERCENTAGE),
        is_target_met=target_met,
        pre_band=None if pre is None else proficiency_band(pre, settings=settings),
        post_band=None if post is None else proficiency_band(post, settings=settings),
        trajectory=trajectory,
        slope_per_week=least_squares_slope(trajectory),
        pre_skill_percentages=_checked_skill_percentages(pre_skill_percentages),
        post_skill_percentages=_checked_skill_percentages(post_skill_percentages),
    )


# --------------------------------------------------------------------------------------------
# Student's t quantile
# --------------------------------------------------------------------------------------------


def student_t_quantile(probability: float, degrees_of_freedom: float) -> float:
    """The t value with P(T ≤ t) = probability for Student's t with the given degrees of freedom
    (SciPy's ``stats.t.ppf``; at p = 0.975 the printed tables' 12.706, 4.303, 2.228, 2.042,
    1.984 for ν = 1, 2, 10, 30, 100)."""
    if not 0 < probability < 1:
        raise ValueError("probability must be strictly between 0 and 1")
    if not (degrees_of_freedom > 0 and math.isfinite(degrees_of_freedom)):
        raise ValueError("degrees of freedom must be a positive finite number")
    from scipy import stats  # imported when needed: it adds a noticeable start-up time

    return float(stats.t.ppf(probability, degrees_of_freedom))


def confidence_t_quantiles(sizes: Sequence[int], *, level: float = CONFIDENCE_LEVEL) -> list[float]:
    """For each group size n ≥ 2, the t of the two-sided ``level`` interval of a mean:
    t(1 − (1 − level) / 2, n − 1), as ``mean_confidence_interval`` uses it."""
    if any(n < 2 for n in sizes):
        raise ValueError("a confidence interval needs at least 2 values")
    if not sizes:
        return []
    from scipy import stats

    probability = 1 - (1 - level) / 2
    return [float(t) for t in stats.t.ppf(probability, [n - 1 for n in sizes])]


# --------------------------------------------------------------------------------------------
# Group summary
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfidenceInterval:
    """A two-sided confidence interval, e.g. for the mean gain (percentage points)."""

    lower: float
    upper: float
    level: float = CONFIDENCE_LEVEL


@dataclass(frozen=True)
class SkillMeans:
    """Per-skill mean pre% and post% over the students who have that skill at both pre and post."""

    n: int
    mean_pre_percentage: float
    mean_post_percentage: float


def _all_band_counts() -> dict[ProficiencyBand, int]:
    return dict.fromkeys(ProficiencyBand, 0)


def _all_transition_counts() -> dict[tuple[ProficiencyBand, ProficiencyBand], int]:
    return {(before, after): 0 for before in ProficiencyBand for after in ProficiencyBand}


@dataclass(frozen=True)
class GroupSummary:
    """Growth statistics of a group of students (classroom unit, school × unit, district × unit,
    student group). Every statistic is over the ``n`` complete students; incomplete students are
    only counted (``incomplete_count``).

    ``effect_size_d_av`` is standardized by the average SD (mean gain / ((SD pre + SD post) / 2)),
    not the paired d_z, which the pre–post correlation would inflate; label it that way.
    ``at_ceiling_count`` counts students with pre = 100 (g undefined, left out of
    ``mean_individual_normalized_gain``); ``little_room_to_grow_count`` counts pre ≥ 90.
    """

    n: int
    incomplete_count: int
    mean_pre_percentage: float | None
    mean_post_percentage: float | None
    mean_gain: float | None
    class_average_normalized_gain: float | None
    hake_band: HakeBand | None
    mean_individual_normalized_gain: float | None
    at_ceiling_count: int
    mean_gain_confidence_interval: ConfidenceInterval | None
    effect_size_d_av: float | None
    target_met_count: int
    share_meeting_target: float | None
    pre_band_counts: Mapping[ProficiencyBand, int] = field(default_factory=_all_band_counts)
    post_band_counts: Mapping[ProficiencyBand, int] = field(default_factory=_all_band_counts)
    band_transition_counts: Mapping[tuple[ProficiencyBand, ProficiencyBand], int] = field(
        default_factory=_all_transition_counts
    )
    little_room_to_grow_count: int = 0
    skill_means: Mapping[str, SkillMeans] = field(default_factory=dict)


def hake_band(class_average_normalized_gain: float) -> HakeBand:
    """Hake band of ⟨g⟩: low below 0.3, medium from 0.3 below 0.7, high from 0.7."""
    if _reaches(class_average_normalized_gain, HAKE_HIGH_FROM):
        return HakeBand.HIGH
    if _reaches(class_average_normalized_gain, HAKE_MEDIUM_FROM):
        return HakeBand.MEDIUM
    return HakeBand.LOW


def class_average_normalized_gain(
    mean_pre_percentage: float, mean_post_percentage: float
) -> float | None:
    """⟨g⟩ = (mean post − mean pre) / (100 − mean pre) (Hake 1998); None when mean pre = 100."""
    return normalized_gain(mean_pre_percentage, mean_post_percentage)


def mean_confidence_interval(
    values: Sequence[float], *, level: float = CONFIDENCE_LEVEL
) -> ConfidenceInterval | None:
    """mean ± t(1 − (1 − level)/2, n − 1) · s / √n with the sample SD s; None for n < 2."""
    if len(values) < 2:
        return None
    mean = statistics.fmean(values)
    standard_error = statistics.stdev(values) / math.sqrt(len(values))
    half_width = student_t_quantile(1 - (1 - level) / 2, len(values) - 1) * standard_error
    return ConfidenceInterval(lower=mean - half_width, upper=mean + half_width, level=level)


def effect_size_d_av(
    pre_percentages: Sequence[float], post_percentages: Sequence[float]
) -> float | None:
    """d_av = mean gain / ((SD pre + SD post) / 2) with sample SDs.

    None for n < 2 or a zero denominator.

    Pre and post are paired: the same students in the same order.
    """
    if len(pre_percentages) != len(post_percentages):
        raise ValueError("pre and post percentages must be paired")
    if len(pre_percentages) < 2:
        return None
    average_sd = (statistics.stdev(pre_percentages) + statistics.stdev(post_percentages)) / 2
    if average_sd == 0:
        return None
    mean_gain = statistics.fmean(post_percentages) - statistics.fmean(pre_percentages)
    return mean_gain / average_sd


def _skill_means(complete: Sequence[StudentGrowth]) -> dict[str, SkillMeans]:
    """Per skill, means over the students with that skill scored at both pre and post."""
    pre_by_skill: dict[str, list[float]] = {}
    post_by_skill: dict[str, list[float]] = {}
    for student in complete:
        for code, pre in student.pre_skill_percentages.items():
            post = student.post_skill_percentages.get(code)
            if post is None:
                continue
            pre_by_skill.setdefault(code, []).append(pre)
            post_by_skill.setdefault(code, []).append(post)
    return {
        code: SkillMeans(
            n=len(pre_by_skill[code]),
            mean_pre_percentage=statistics.fmean(pre_by_skill[code]),
            mean_post_percentage=statistics.fmean(post_by_skill[code]),
        )
        for code in sorted(pre_by_skill)
    }


def group_summary(students: Iterable[StudentGrowth]) -> GroupSummary:
    """Summarize a group of students' growth; statistics over complete students only.

    Rules: ⟨g⟩ from the group means (None when mean pre = 100); mean individual g leaves out and
    counts students at ceiling; 95% CI of the mean gain with t(n − 1) (None for n < 2); d_av with
    sample SDs (None for n < 2 or zero average SD); share meeting target over complete students;
    band counts and transitions (pre band → post band) over complete students.
    """
    all_students = list(students)
    complete = [student for student in all_students if student.is_complete]
    incomplete_count = len(all_students) - len(complete)
    pre = [student.pre_percentage for student in complete if student.pre_percentage is not None]
    post = [student.post_percentage for student in complete if student.post_percentage is not None]
    gains = [student.gain for student in complete if student.gain is not None]
    individual_gains = [
        student.normalized_gain for student in complete if student.normalized_gain is not None
    ]
    target_met_count = sum(1 for student in complete if student.is_target_met)
    pre_band_counts = _all_band_counts()
    post_band_counts = _all_band_counts()
    transition_counts = _all_transition_counts()
    for student in complete:
        if student.pre_band is None or student.post_band is None:
            continue
        pre_band_counts[student.pre_band] += 1
        post_band_counts[student.post_band] += 1
        transition_counts[(student.pre_band, student.post_band)] += 1

    n = len(complete)
    mean_pre = statistics.fmean(pre) if n else None
    mean_post = statistics.fmean(post) if n else None
    average_gain: float | None = None
    if mean_pre is not None and mean_post is not None:
        class_gain = class_average_normalized_gain(mean_pre, mean_post)
        average_gain = statistics.fmean(gains)
    else:
        class_gain = None
    return GroupSummary(
        n=n,
        incomplete_count=incomplete_count,
        mean_pre_percentage=mean_pre,
        mean_post_percentage=mean_post,
        mean_gain=average_gain,
        class_average_normalized_gain=class_gain,
        hake_band=None if class_gain is None else hake_band(class_gain),
        mean_individual_normalized_gain=(
            statistics.fmean(individual_gains) if individual_gains else None
        ),
        at_ceiling_count=sum(1 for student in complete if student.is_at_ceiling),
        mean_gain_confidence_interval=mean_confidence_interval(gains),
        effect_size_d_av=effect_size_d_av(pre, post),
        target_met_count=target_met_count,
        share_meeting_target=target_met_count / n if n else None,
        pre_band_counts=pre_band_counts,
        post_band_counts=post_band_counts,
        band_transition_counts=transition_counts,
        little_room_to_grow_count=sum(1 for student in complete if student.has_little_room_to_grow),
        skill_means=_skill_means(complete),
    )


# --------------------------------------------------------------------------------------------
# Suppression of small cells in student-group breakdowns
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Suppression across a hierarchy (classroom units within a school, schools within a district)
# --------------------------------------------------------------------------------------------


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

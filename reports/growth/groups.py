"""Group statistics over complete students: means, intervals, ⟨g⟩, d_av, bands, skills."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from reports.growth.rules import (
    CONFIDENCE_LEVEL,
    HAKE_HIGH_FROM,
    HAKE_MEDIUM_FROM,
    HakeBand,
    ProficiencyBand,
    reaches,
)
from reports.growth.students import StudentGrowth, normalized_gain


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
    if reaches(class_average_normalized_gain, HAKE_HIGH_FROM):
        return HakeBand.HIGH
    if reaches(class_average_normalized_gain, HAKE_MEDIUM_FROM):
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

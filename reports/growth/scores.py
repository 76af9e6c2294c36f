"""Assessment percentages: from one student's skill scores at one assessment."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from reports.growth.rules import Number, ScoreStatus

_HUNDRED = Decimal(100)


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

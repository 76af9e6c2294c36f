"""Thresholds, defaults and the named values growth is told in."""

from __future__ import annotations

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

# Also read by the rebuild's SQL (reports/growth_build/).
BOUNDARY_TOLERANCE = 1e-9

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


def reaches(value: float, threshold: float) -> bool:
    """value ≥ threshold, counting a float-rounding miss of at most 1e-9 as on the boundary."""
    return value >= threshold - BOUNDARY_TOLERANCE

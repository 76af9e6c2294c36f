"""How growth numbers read on the report pages: one decimal, units named, nothing as 0."""

from __future__ import annotations

from django import template

register = template.Library()

MISSING = "—"


@register.filter
def percent(value: float | None) -> str:
    """52.5%; a missing value is a dash, never 0."""
    return MISSING if value is None else f"{value:.1f}%"


@register.filter
def points(value: float | None) -> str:
    """A signed difference in percentage points: +27.5."""
    return MISSING if value is None else f"{value:+.1f}"


@register.filter
def gain_value(value: float | None) -> str:
    """A normalized gain with two decimals: 0.58."""
    return MISSING if value is None else f"{value:.2f}"


@register.filter
def share(value: float | None) -> str:
    """A share of students as a whole percentage: 75%."""
    return MISSING if value is None else f"{value * 100:.0f}%"


@register.filter
def slope(value: float | None) -> str:
    """Percentage points per week: +3.2/wk."""
    return MISSING if value is None else f"{value:+.1f}/wk"

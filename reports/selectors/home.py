"""The reports home: the district's units and the schools the user reaches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.safestring import SafeString

from classrooms.models import District, School
from reports.models import (
    BreakdownPart,
    DistrictUnitGrowthSummary,
)
from reports.selectors.rows import Summary, chart_or_none, summary_of, summary_pre_post
from units.models import Unit

# Reports home


@dataclass(frozen=True)
class DistrictUnitLine:
    unit: Unit
    summary: Summary
    chart: SafeString | None


@dataclass(frozen=True)
class ReportsHome:
    schools: list[School]
    district: District | None
    district_units: list[DistrictUnitLine]


def reports_home(*, user: Any) -> ReportsHome:
    """The schools a user may open, and for a district admin the district × unit roll-ups."""
    schools = list(School.objects.visible_to(user).order_by("name"))
    rows = list(
        DistrictUnitGrowthSummary.objects.visible_to(user)
        .filter(part=BreakdownPart.ALL)
        .select_related("unit", "district")
        .order_by("unit__subject", "unit__grade_level", "unit__title")
    )
    lines = []
    for row in rows:
        summary = summary_of(row)
        lines.append(
            DistrictUnitLine(
                unit=row.unit,
                summary=summary,
                chart=chart_or_none(
                    [summary_pre_post("", summary)],
                    chart_id=f"district-unit-{row.unit_id}",
                    title=f"{row.unit}: district mean pre → post",
                    plot_width=150,
                    is_small=True,
                ),
            )
        )
    return ReportsHome(
        schools=schools, district=rows[0].district if rows else None, district_units=lines
    )

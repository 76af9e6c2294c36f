"""The student growth export: stored growth (reports.StudentGrowth), one row per enrolled student ×
classroom unit, as the last growth build left it (docs/data-dictionary.md, `student_growth`)."""

from __future__ import annotations

from django.db.models import QuerySet

from reports.exports.columns import ColumnType, ExportColumn
from reports.exports.scoping import ExportFilters, ExportScope
from reports.exports.scores import STUDENT_NAME_COLUMNS
from reports.models import StudentGrowth


def _place_columns(prefix: str) -> tuple[ExportColumn, ...]:
    """Where a classroom unit was taught, reached by ``prefix`` (ending in __, or '')."""
    return (
        ExportColumn("classroom_unit_id", f"{prefix}id" if prefix else "pk", ColumnType.INTEGER),
        ExportColumn("school_code", f"{prefix}classroom__school__code"),
        ExportColumn("school_name", f"{prefix}classroom__school__name"),
        ExportColumn("academic_year", f"{prefix}classroom__term__academic_year__name"),
        ExportColumn("term", f"{prefix}classroom__term__name"),
        ExportColumn("classroom_name", f"{prefix}classroom__name"),
        ExportColumn("subject", f"{prefix}unit__subject"),
        ExportColumn("unit_title", f"{prefix}unit__title"),
        ExportColumn("unit_version", f"{prefix}unit__version", ColumnType.INTEGER),
    )


STUDENT_GROWTH_COLUMNS: tuple[ExportColumn, ...] = (
    *STUDENT_NAME_COLUMNS,
    ExportColumn("student_grade_level", "student__grade_level", ColumnType.CODE),
    *_place_columns("classroom_unit__"),
    ExportColumn("pre_percentage", "pre_percentage", ColumnType.NUMBER, places=2),
    ExportColumn("post_percentage", "post_percentage", ColumnType.NUMBER, places=2),
    ExportColumn("gain", "gain", ColumnType.NUMBER, places=2),
    ExportColumn("normalized_gain", "normalized_gain", ColumnType.NUMBER, places=4),
    ExportColumn("is_at_ceiling", "is_at_ceiling", ColumnType.BOOLEAN),
    ExportColumn("has_little_room_to_grow", "has_little_room_to_grow", ColumnType.BOOLEAN),
    ExportColumn("is_target_met", "is_target_met", ColumnType.BOOLEAN),
    ExportColumn("is_complete", "is_complete", ColumnType.BOOLEAN),
    ExportColumn("pre_band", "pre_band", ColumnType.CODE),
    ExportColumn("post_band", "post_band", ColumnType.CODE),
    ExportColumn("slope_per_week", "slope_per_week", ColumnType.NUMBER, places=2),
    ExportColumn("built_at", "built_at", ColumnType.TIMESTAMP),
)


def student_growth_rows(*, scope: ExportScope, filters: ExportFilters) -> QuerySet[StudentGrowth]:
    """Stored student growth (reports.StudentGrowth): one row per enrolled student × classroom
    unit, as the last growth build left it (``built_at``); in no particular order."""
    rows = StudentGrowth.objects.visible_to(scope.actor).filter(
        scope.classrooms_q("classroom_unit__classroom")
    )
    return filters.apply(rows, "classroom_unit").order_by()

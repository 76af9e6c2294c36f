"""The student-level scores export: one row per student × assessment × skill with points or a
status, in the classrooms the actor may export (docs/data-dictionary.md, `scores`)."""

from __future__ import annotations

from django.db.models import QuerySet

from assessments.models import Score
from reports.exports.columns import ColumnType, ExportColumn
from reports.exports.scoping import ExportFilters, ExportScope

STUDENT_NAME_COLUMNS = (
    ExportColumn("student_sis_id", "student__sis_id"),
    ExportColumn("student_family_name", "student__family_name"),
    ExportColumn("student_given_name", "student__given_name"),
)

SCORE_COLUMNS: tuple[ExportColumn, ...] = (
    *STUDENT_NAME_COLUMNS,
    ExportColumn("school_name", "classroom_unit__classroom__school__name"),
    ExportColumn("classroom_name", "classroom_unit__classroom__name"),
    ExportColumn("unit_title", "classroom_unit__unit__title"),
    ExportColumn("unit_version", "classroom_unit__unit__version", ColumnType.INTEGER),
    ExportColumn("assessment_kind", "assessment_skill__assessment__kind", ColumnType.CODE),
    ExportColumn("assessment_week", "assessment_skill__assessment__week", ColumnType.INTEGER),
    ExportColumn("skill_code", "assessment_skill__skill__code"),
    ExportColumn("points", "points", ColumnType.DECIMAL),
    ExportColumn("max_points", "assessment_skill__max_points", ColumnType.DECIMAL),
    ExportColumn("status", "status", ColumnType.CODE),
    ExportColumn("entered_at", "entered_at", ColumnType.TIMESTAMP),
)


def score_rows(*, scope: ExportScope, filters: ExportFilters) -> QuerySet[Score]:
    """Student-level scores: one row per student × assessment × skill with points or a status,
    in the classrooms of the scope.

    In no particular order: sorting millions of rows would hold back the first byte until the
    last row is read (a spreadsheet sorts them in a moment).
    """
    rows = Score.objects.visible_to(scope.actor).filter(
        scope.classrooms_q("classroom_unit__classroom")
    )
    return filters.apply(rows, "classroom_unit").order_by()

"""The aggregate growth export: the stored summaries by district, school and classroom,
de-identified, suppressed as the reports suppress them (docs/data-dictionary.md,
`aggregate_growth`). A few rows per unit, so it is read level by level, never in batches of
classroom units.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import transaction
from django.db.models import (
    Case,
    CharField,
    Exists,
    F,
    Field,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import Combinable

from classrooms.models import Classroom, School
from reports.exports.columns import ColumnType, ExportColumn
from reports.exports.scoping import ExportFilters, ExportScope
from reports.exports.writing import BOM, ExportProgress, header_line, rows_csv_blocks
from reports.models import (
    ClassroomUnitGrowthSummary,
    DistrictUnitGrowthSummary,
    SchoolUnitGrowthSummary,
)
from units.models import ClassroomUnit

AGGREGATE_LEVELS = ("district", "school", "classroom")

# Statistics of a summary row: (column, type, decimals). Empty on a suppressed row, always.
AGGREGATE_STATISTICS: tuple[tuple[str, ColumnType, int], ...] = (
    ("n", ColumnType.INTEGER, 0),
    ("incomplete_count", ColumnType.INTEGER, 0),
    ("mean_pre_percentage", ColumnType.NUMBER, 2),
    ("mean_post_percentage", ColumnType.NUMBER, 2),
    ("mean_gain", ColumnType.NUMBER, 2),
    ("mean_gain_lower", ColumnType.NUMBER, 2),
    ("mean_gain_upper", ColumnType.NUMBER, 2),
    ("class_average_normalized_gain", ColumnType.NUMBER, 4),
    ("hake_band", ColumnType.CODE, 0),
    ("mean_individual_normalized_gain", ColumnType.NUMBER, 4),
    ("at_ceiling_count", ColumnType.INTEGER, 0),
    ("little_room_to_grow_count", ColumnType.INTEGER, 0),
    ("effect_size_d_av", ColumnType.NUMBER, 4),
    ("target_met_count", ColumnType.INTEGER, 0),
    ("share_meeting_target", ColumnType.NUMBER, 4),
    ("pre_gap", ColumnType.NUMBER, 2),
    ("post_gap", ColumnType.NUMBER, 2),
    ("gap_change", ColumnType.NUMBER, 2),
)


def _unless_suppressed(field_name: str, output_field: Field[Any, Any]) -> Combinable:
    """The field, or NULL on a suppressed row: the builders store suppressed rows empty, and
    the export never relies on that alone (a suppressed cell must not be recoverable)."""
    return Case(
        When(is_suppressed=True, then=Value(None, output_field=output_field)),
        default=F(field_name),
        output_field=output_field,
    )


def _blank_text() -> Value:
    return Value("", output_field=CharField())


def _aggregate_columns(level: str) -> tuple[ExportColumn, ...]:
    """The columns of one level's summary rows; every level has the same columns, so the rows of
    all three share one header."""
    school = {
        "district": None,
        "school": "school__",
        "classroom": "classroom_unit__classroom__school__",
    }
    unit = "classroom_unit__unit__" if level == "classroom" else "unit__"
    school_prefix = school[level]
    is_classroom = level == "classroom"

    def text(path: str | None) -> str | Combinable:
        return path if path is not None else _blank_text()

    statistics = []
    for name, column_type, places in AGGREGATE_STATISTICS:
        output_field: Field[Any, Any]
        if column_type is ColumnType.INTEGER:
            output_field = IntegerField()
        elif column_type is ColumnType.CODE:
            output_field = CharField()
        else:
            output_field = FloatField()
        statistics.append(
            ExportColumn(name, _unless_suppressed(name, output_field), column_type, places=places)
        )
    return (
        ExportColumn("level", Value(level, output_field=CharField()), ColumnType.CODE),
        ExportColumn("school_code", text(f"{school_prefix}code" if school_prefix else None)),
        ExportColumn("school_name", text(f"{school_prefix}name" if school_prefix else None)),
        ExportColumn(
            "classroom_unit_id",
            "classroom_unit_id" if is_classroom else Value(None, output_field=IntegerField()),
            ColumnType.INTEGER,
        ),
        ExportColumn(
            "classroom_name", text("classroom_unit__classroom__name" if is_classroom else None)
        ),
        ExportColumn(
            "academic_year",
            text("classroom_unit__classroom__term__academic_year__name" if is_classroom else None),
        ),
        ExportColumn(
            "term", text("classroom_unit__classroom__term__name" if is_classroom else None)
        ),
        ExportColumn("subject", f"{unit}subject"),
        ExportColumn("unit_title", f"{unit}title"),
        ExportColumn("unit_version", f"{unit}version", ColumnType.INTEGER),
        ExportColumn("student_group", "student_group__name"),
        ExportColumn("part", "part", ColumnType.CODE),
        ExportColumn("is_suppressed", "is_suppressed", ColumnType.BOOLEAN),
        ExportColumn("suppression_reason", "suppression_reason", ColumnType.CODE),
        *statistics,
        ExportColumn("built_at", "built_at", ColumnType.TIMESTAMP),
    )


AGGREGATE_COLUMNS: dict[str, tuple[ExportColumn, ...]] = {
    level: _aggregate_columns(level) for level in AGGREGATE_LEVELS
}


def _taught_in_year(scope: ExportScope, year_id: int, **match: Any) -> Exists:
    """Whether the row's unit was taught in ``year_id`` (in the row's school, for school rows)."""
    classroom_units = ClassroomUnit.objects.visible_to(scope.actor).filter(
        unit_id=OuterRef("unit_id"), classroom__term__academic_year_id=year_id, **match
    )
    return Exists(classroom_units)


def aggregate_rows(
    *, scope: ExportScope, filters: ExportFilters
) -> list[tuple[str, QuerySet[Any]]]:
    """The summary rows of each level (district, school, classroom) the actor may export.

    District admins: the district × unit rows, and every school's and classroom's. Coaches: the
    rows of the schools they coach and of those schools' classrooms. Teachers: the rows of their
    own classrooms. Each starts from ``visible_to(actor)``. A school filter leaves out the
    district rows (they cover every school); an academic year keeps the school and district rows
    of units taught in that year.
    """
    district_id = scope.district.pk
    districts: QuerySet[Any] = DistrictUnitGrowthSummary.objects.visible_to(scope.actor).filter(
        district_id=district_id
    )
    schools: QuerySet[Any] = SchoolUnitGrowthSummary.objects.visible_to(scope.actor).filter(
        school__district_id=district_id
    )
    classrooms: QuerySet[Any] = ClassroomUnitGrowthSummary.objects.visible_to(scope.actor).filter(
        classroom_unit__classroom__school__district_id=district_id
    )
    if not scope.is_district_admin:
        districts = districts.none()
        schools = schools.filter(
            school__in=School.objects.visible_to(scope.actor).filter(coaches=scope.actor)
        )
        reached = Classroom.objects.visible_to(scope.actor).filter(
            Q(teachers=scope.actor) | Q(school__coaches=scope.actor)
        )
        classrooms = classrooms.filter(classroom_unit__classroom__in=reached.values("pk"))
    if filters.school_id is not None:
        districts = districts.none()
        schools = schools.filter(school_id=filters.school_id)
    if filters.unit_id is not None:
        districts = districts.filter(unit_id=filters.unit_id)
        schools = schools.filter(unit_id=filters.unit_id)
    if filters.subject:
        districts = districts.filter(unit__subject=filters.subject)
        schools = schools.filter(unit__subject=filters.subject)
    if filters.academic_year_id is not None:
        year = filters.academic_year_id
        districts = districts.filter(_taught_in_year(scope, year))
        schools = schools.filter(
            _taught_in_year(scope, year, classroom__school_id=OuterRef("school_id"))
        )
    classrooms = filters.apply(classrooms, "classroom_unit")
    group_order = ("student_group__name", "part")
    return [
        ("district", districts.order_by("unit__title", *group_order)),
        ("school", schools.order_by("school__name", "unit__title", *group_order)),
        (
            "classroom",
            classrooms.order_by(
                "classroom_unit__classroom__school__name",
                "classroom_unit__classroom__name",
                "classroom_unit__unit__title",
                *group_order,
            ),
        ),
    ]


def aggregate_row_sets(*, scope: ExportScope, filters: ExportFilters) -> list[QuerySet[Any]]:
    return [rows for _level, rows in aggregate_rows(scope=scope, filters=filters)]


def aggregate_blocks(
    *,
    scope: ExportScope,
    filters: ExportFilters,
    excel: bool,
    progress: ExportProgress,
    batches: list[list[int]] | None,
) -> Iterator[bytes]:
    """One header (every level has the same columns), then each level's rows in a transaction
    of its own; a job saves its progress after each level."""
    if excel:
        yield BOM.encode("utf-8")
    yield header_line(AGGREGATE_COLUMNS["district"])
    for level, level_rows in aggregate_rows(scope=scope, filters=filters):
        with transaction.atomic():
            yield from rows_csv_blocks(level_rows, AGGREGATE_COLUMNS[level], progress)
        if batches is not None:
            progress.batch_done()

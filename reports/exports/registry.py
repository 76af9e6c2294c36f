"""Every kind of export, once: how it is prepared (who may ask for it), counted, written and
named. Callers look a kind up here and never branch on it; a new kind is one entry in
``EXPORTS`` (a test checks that every ExportKind has one).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from django.db.models import QuerySet
from django.utils.text import slugify

from classrooms.models import District
from reports.exports.aggregate_growth import AGGREGATE_COLUMNS, aggregate_blocks, aggregate_row_sets
from reports.exports.columns import ExportColumn
from reports.exports.oneroster_results import result_row_sets, results_zip_blocks
from reports.exports.scoping import ExportFilters, ExportScope
from reports.exports.scores import SCORE_COLUMNS, score_rows
from reports.exports.student_growth import STUDENT_GROWTH_COLUMNS, student_growth_rows
from reports.exports.workbook import XLSX_CONTENT_TYPE
from reports.exports.writing import ExportProgress, csv_file_blocks
from reports.models import ExportKind

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
ZIP_CONTENT_TYPE = "application/zip"


class ExportRowSets(Protocol):
    """The querysets whose rows an export writes (what its size is counted on)."""

    def __call__(self, *, scope: ExportScope, filters: ExportFilters) -> list[QuerySet[Any]]: ...


class ExportBlocks(Protocol):
    """An export's bytes as they are read: in one transaction per query without ``batches``
    (a streamed response); with them, per batch of classroom unit ids, calling
    ``progress.batch_done()`` after each (a job). Both write the same bytes."""

    def __call__(
        self,
        *,
        scope: ExportScope,
        filters: ExportFilters,
        excel: bool,
        progress: ExportProgress,
        batches: list[list[int]] | None,
    ) -> Iterator[bytes]: ...


@dataclass(frozen=True)
class ExportDefinition:
    """One kind of export: student-level kinds are refused to coaches (``scoping``); the size
    is the rows of ``row_sets``; ``blocks`` writes it; ``extension`` names its file."""

    kind: ExportKind
    is_student_level: bool
    row_sets: ExportRowSets
    blocks: ExportBlocks
    extension: str = "csv"
    # The columns of a one-table export, which type the cells of its workbook (.xlsx); a zip
    # of several files has none and is offered as a zip only.
    columns: tuple[ExportColumn, ...] = ()

    @property
    def offers_workbook(self) -> bool:
        return bool(self.columns)

    @property
    def content_type(self) -> str:
        return ZIP_CONTENT_TYPE if self.extension == "zip" else CSV_CONTENT_TYPE

    def format_described(self, *, excel: bool, xlsx: bool = False) -> str:
        """The file's format as the audit log names it."""
        if self.extension == "zip":
            return "zip of CSV files"
        if xlsx:
            return "Excel workbook (.xlsx)"
        return "CSV, UTF-8 with byte-order mark (Excel)" if excel else "CSV, UTF-8"

    def file_extension(self, *, xlsx: bool = False) -> str:
        return "xlsx" if xlsx and self.offers_workbook else self.extension

    def file_content_type(self, *, xlsx: bool = False) -> str:
        return XLSX_CONTENT_TYPE if xlsx and self.offers_workbook else self.content_type

    def filename(self, *, district: District, day: datetime.date, xlsx: bool = False) -> str:
        """e.g. ``riverbend-unified-scores-2026-11-23.csv``."""
        name = slugify(district.name) or "district"
        extension = self.file_extension(xlsx=xlsx)
        return f"{name}-{self.kind.value.replace('_', '-')}-{day.isoformat()}.{extension}"


@dataclass(frozen=True)
class QuerysetCsv:
    """An export that is one CSV file of one queryset's rows, in batches of classroom units
    (the rows reach ClassroomUnit by ``classroom_unit``)."""

    columns: tuple[ExportColumn, ...]
    rows: Callable[..., QuerySet[Any]]

    def row_sets(self, *, scope: ExportScope, filters: ExportFilters) -> list[QuerySet[Any]]:
        return [self.rows(scope=scope, filters=filters)]

    def blocks(
        self,
        *,
        scope: ExportScope,
        filters: ExportFilters,
        excel: bool,
        progress: ExportProgress,
        batches: list[list[int]] | None,
    ) -> Iterator[bytes]:
        rows = self.rows(scope=scope, filters=filters)
        yield from csv_file_blocks(
            self.columns, rows, excel=excel, progress=progress, batches=batches
        )


def _oneroster_results_blocks(
    *,
    scope: ExportScope,
    filters: ExportFilters,
    excel: bool,
    progress: ExportProgress,
    batches: list[list[int]] | None,
) -> Iterator[bytes]:
    # ``excel`` is for a CSV opened in Excel; a OneRoster zip goes to a gradebook as it is.
    yield from results_zip_blocks(scope=scope, filters=filters, progress=progress, batches=batches)


_SCORES = QuerysetCsv(SCORE_COLUMNS, score_rows)
_STUDENT_GROWTH = QuerysetCsv(STUDENT_GROWTH_COLUMNS, student_growth_rows)

EXPORTS: dict[ExportKind, ExportDefinition] = {
    ExportKind.SCORES: ExportDefinition(
        kind=ExportKind.SCORES,
        is_student_level=True,
        row_sets=_SCORES.row_sets,
        blocks=_SCORES.blocks,
        columns=SCORE_COLUMNS,
    ),
    ExportKind.STUDENT_GROWTH: ExportDefinition(
        kind=ExportKind.STUDENT_GROWTH,
        is_student_level=True,
        row_sets=_STUDENT_GROWTH.row_sets,
        blocks=_STUDENT_GROWTH.blocks,
        columns=STUDENT_GROWTH_COLUMNS,
    ),
    ExportKind.AGGREGATE_GROWTH: ExportDefinition(
        kind=ExportKind.AGGREGATE_GROWTH,
        is_student_level=False,
        row_sets=aggregate_row_sets,
        blocks=aggregate_blocks,
        columns=tuple(AGGREGATE_COLUMNS["district"]),
    ),
    ExportKind.ONEROSTER_RESULTS: ExportDefinition(
        kind=ExportKind.ONEROSTER_RESULTS,
        is_student_level=True,
        row_sets=result_row_sets,
        blocks=_oneroster_results_blocks,
        extension="zip",
    ),
}

# Kinds that name students: coaches may not export them, and deleting a student's data
# withdraws their files (``jobs.export_job_files_withdraw``).
STUDENT_LEVEL_KINDS = frozenset(
    kind for kind, definition in EXPORTS.items() if definition.is_student_level
)


def export_definition(kind: ExportKind | str) -> ExportDefinition:
    """The definition of ``kind`` (ValueError for a value that is no ExportKind)."""
    return EXPORTS[ExportKind(kind)]

"""OneRoster 1.1 results export: scores back to a gradebook or student information system.

A zip of four CSV files (OneRoster 1.1 CSV binding, bulk): ``manifest.csv``, ``categories.csv``,
``lineItems.csv`` and ``results.csv``. Who may export it and which scores it holds are the rules
of the student-level scores export (reports/exports/scores.py): the same scope and filters.

How Thinslice maps onto OneRoster (docs/data-dictionary.md has every column):

- **categories**: one per assessment kind (pre-assessment, formative checkpoint,
  post-assessment), always all three.
- **lineItems**: one per classroom unit × assessment × skill of the unit's plan (a score is kept
  per skill, with the skill's own max points, so a line item is a skill of an assessment; a
  gradebook that wants one column per assessment adds them up). Assigned on the first day of the
  assessment's due week and due on its last; ``resultValueMax`` is the skill's max points. Planned
  assessments without scores yet are listed too, so a gradebook can set up its columns.
- **results**: one per score: ``fully graded`` with the points, ``not submitted`` (absent) or
  ``exempt`` with an empty score (a 0 would read as a score earned).
- **sourcedIds**: a class, term or student imported from the SIS keeps its OneRoster sourcedId;
  otherwise a class is ``thinslice-class-<id>``, a term ``thinslice-term-<id>`` and a student
  their SIS id. Line items and results get ids of their own built from Thinslice ids, so the
  same score always has the same sourcedId.
- ``status`` and ``dateLastModified`` are left empty, as the 1.1 binding asks of bulk files.

Like every export, text cells that start like a formula are neutralised and the files are
UTF-8 with LF line ends; the zip is written as it is read, so memory does not grow with rows.
"""

from __future__ import annotations

import datetime
import io
import zipfile
from collections.abc import Iterator
from typing import Any

from django.db import transaction
from django.db.models import Case, CharField, F, QuerySet, Value, When
from django.db.models.functions import Coalesce, Concat, NullIf

from assessments.models import Score, ScoreStatus
from classrooms.spreadsheets import spreadsheet_safe
from reports.exports.columns import ColumnType, ExportColumn
from reports.exports.scoping import ExportFilters, ExportScope
from reports.exports.scores import score_rows
from reports.exports.writing import (
    CHUNK_BYTES,
    ExportProgress,
    batched_rows_csv_blocks,
    csv_line,
    header_line,
)
from units.models import AssessmentKind, ClassroomUnit

SYSTEM_NAME = "Thinslice"
ID_PREFIX = "thinslice"
MANIFEST = "manifest.csv"
CATEGORIES = "categories.csv"
LINE_ITEMS = "lineItems.csv"
RESULTS = "results.csv"
FILES = (MANIFEST, CATEGORIES, LINE_ITEMS, RESULTS)

# Every file OneRoster 1.1 names, and how this export provides it.
MANIFEST_FILES = {
    "file.academicSessions": "absent",
    "file.categories": "bulk",
    "file.classes": "absent",
    "file.classResources": "absent",
    "file.courses": "absent",
    "file.courseResources": "absent",
    "file.demographics": "absent",
    "file.enrollments": "absent",
    "file.lineItems": "bulk",
    "file.orgs": "absent",
    "file.resources": "absent",
    "file.results": "bulk",
    "file.users": "absent",
}

CATEGORY_COLUMNS = ("sourcedId", "status", "dateLastModified", "title")
LINE_ITEM_COLUMNS = (
    "sourcedId",
    "status",
    "dateLastModified",
    "title",
    "description",
    "assignDate",
    "dueDate",
    "classSourcedId",
    "categorySourcedId",
    "gradingPeriodSourcedId",
    "resultValueMin",
    "resultValueMax",
)

SCORE_STATUS = {
    ScoreStatus.SCORED: "fully graded",
    ScoreStatus.ABSENT: "not submitted",
    ScoreStatus.EXEMPT: "exempt",
}


def _text(value: str) -> Value:
    return Value(value, output_field=CharField())


def category_sourced_id(kind: str) -> str:
    return f"{ID_PREFIX}-category-{kind}"


def line_item_sourced_id(classroom_unit_id: int, assessment_skill_id: int) -> str:
    return f"{ID_PREFIX}-lineitem-{classroom_unit_id}-{assessment_skill_id}"


RESULT_COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn(
        "sourcedId",
        Concat(
            _text(f"{ID_PREFIX}-result-"),
            F("classroom_unit_id"),
            _text("-"),
            F("assessment_skill_id"),
            _text("-"),
            F("student_id"),
            output_field=CharField(),
        ),
        ColumnType.CODE,
    ),
    ExportColumn("status", _text("")),
    ExportColumn("dateLastModified", _text("")),
    ExportColumn(
        "lineItemSourcedId",
        Concat(
            _text(f"{ID_PREFIX}-lineitem-"),
            F("classroom_unit_id"),
            _text("-"),
            F("assessment_skill_id"),
            output_field=CharField(),
        ),
        ColumnType.CODE,
    ),
    ExportColumn(
        "studentSourcedId",
        Coalesce(NullIf(F("student__sourced_id"), _text("")), F("student__sis_id")),
    ),
    ExportColumn(
        "scoreStatus",
        Case(
            *(When(status=status, then=_text(label)) for status, label in SCORE_STATUS.items()),
            output_field=CharField(),
        ),
        ColumnType.CODE,
    ),
    ExportColumn("score", "points", ColumnType.DECIMAL),
    ExportColumn("scoreDate", "entered_at", ColumnType.UTC_DATE),
    ExportColumn("comment", _text("")),
)


def result_rows(*, scope: ExportScope, filters: ExportFilters) -> QuerySet[Score]:
    """The scores the export sends back: those of the student-level scores export."""
    return score_rows(scope=scope, filters=filters)


def result_row_sets(*, scope: ExportScope, filters: ExportFilters) -> list[QuerySet[Score]]:
    """What the export counts: its results."""
    return [result_rows(scope=scope, filters=filters)]


def _line_item_values(*, scope: ExportScope, filters: ExportFilters) -> QuerySet[Any]:
    """Every classroom unit of the scope × every assessment skill of its unit's plan."""
    classroom_units = ClassroomUnit.objects.visible_to(scope.actor).filter(
        scope.classrooms_q("classroom")
    )
    measures = "unit__assessments__assessment_skills"
    return (
        filters.apply(classroom_units, "")
        .order_by("pk", "unit__assessments__week", f"{measures}__skill__code")
        .values_list(
            "pk",
            "start_date",
            "classroom_id",
            "classroom__sourced_id",
            "classroom__term_id",
            "classroom__term__sourced_id",
            "unit__title",
            "unit__assessments__title",
            "unit__assessments__kind",
            "unit__assessments__week",
            f"{measures}__pk",
            f"{measures}__skill__code",
            f"{measures}__skill__description",
            f"{measures}__max_points",
        )
    )


def _line_item_cells(row: tuple[Any, ...]) -> list[str] | None:
    (
        classroom_unit_id,
        start_date,
        classroom_id,
        classroom_sourced_id,
        term_id,
        term_sourced_id,
        unit_title,
        assessment_title,
        kind,
        week,
        assessment_skill_id,
        skill_code,
        skill_description,
        max_points,
    ) = row
    if assessment_skill_id is None:  # an assessment that measures no skill yet
        return None
    assigned = start_date + datetime.timedelta(weeks=week - 1)
    cells = [
        line_item_sourced_id(classroom_unit_id, assessment_skill_id),
        "",
        "",
        spreadsheet_safe(f"{assessment_title}: {skill_code}"),
        spreadsheet_safe(f"{unit_title}, week {week}: {skill_description or skill_code}"),
        assigned.isoformat(),
        (assigned + datetime.timedelta(days=6)).isoformat(),
        spreadsheet_safe(classroom_sourced_id or f"{ID_PREFIX}-class-{classroom_id}"),
        category_sourced_id(kind),
        spreadsheet_safe(term_sourced_id or f"{ID_PREFIX}-term-{term_id}"),
        "0",
        format(max_points, "f"),
    ]
    return cells


def _manifest_blocks() -> Iterator[bytes]:
    yield csv_line(["propertyName", "value"])
    yield csv_line(["manifest.version", "1.0"])
    yield csv_line(["oneroster.version", "1.1"])
    for name, mode in MANIFEST_FILES.items():
        yield csv_line([name, mode])
    yield csv_line(["source.systemName", SYSTEM_NAME])
    yield csv_line(["source.systemCode", ID_PREFIX])


def _category_blocks() -> Iterator[bytes]:
    yield csv_line(CATEGORY_COLUMNS)
    for kind in AssessmentKind:
        yield csv_line([category_sourced_id(kind.value), "", "", str(kind.label)])


def _line_item_blocks(*, scope: ExportScope, filters: ExportFilters) -> Iterator[bytes]:
    yield csv_line(LINE_ITEM_COLUMNS)
    with transaction.atomic():
        for row in _line_item_values(scope=scope, filters=filters).iterator(chunk_size=2000):
            cells = _line_item_cells(row)
            if cells is not None:
                yield csv_line(cells)


def _result_blocks(
    *,
    scope: ExportScope,
    filters: ExportFilters,
    progress: ExportProgress,
    batches: list[list[int]] | None,
) -> Iterator[bytes]:
    yield header_line(RESULT_COLUMNS)
    rows = result_rows(scope=scope, filters=filters)
    yield from batched_rows_csv_blocks(rows, RESULT_COLUMNS, progress, batches=batches)


class _ZipSink(io.RawIOBase):
    """What the zip is written to: bytes wait here until taken. It cannot seek, so zipfile
    writes each member's sizes after its data and the zip streams."""

    def __init__(self) -> None:
        super().__init__()
        self._pending = bytearray()
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._pending += data
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    @property
    def pending(self) -> int:
        return len(self._pending)

    def take(self) -> bytes:
        chunk = bytes(self._pending)
        self._pending.clear()
        return chunk


def results_zip_blocks(
    *,
    scope: ExportScope,
    filters: ExportFilters,
    progress: ExportProgress,
    batches: list[list[int]] | None = None,
) -> Iterator[bytes]:
    """The zip's bytes as the rows are read (``progress`` counts results rows)."""
    sink = _ZipSink()
    members = (
        (MANIFEST, _manifest_blocks()),
        (CATEGORIES, _category_blocks()),
        (LINE_ITEMS, _line_item_blocks(scope=scope, filters=filters)),
        (
            RESULTS,
            _result_blocks(scope=scope, filters=filters, progress=progress, batches=batches),
        ),
    )
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, blocks in members:
            with archive.open(name, "w", force_zip64=True) as member:
                for block in blocks:
                    member.write(block)
                    if sink.pending >= CHUNK_BYTES:
                        yield sink.take()
    yield sink.take()

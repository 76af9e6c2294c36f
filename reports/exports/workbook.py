"""An export as an Excel workbook (.xlsx), written by XlsxWriter in its constant-memory mode:
one worksheet, the header row bold and frozen, numbers as numbers, true/false as booleans, dates
as dates and text as text (never a formula: strings are written as strings, and a text cell that
a spreadsheet could run has Excel's quote prefix, so it stays text when edited).

The rows come from the export's own CSV (the same rows, scope and neutralisation as the CSV
download), read back from a temporary file; each column is typed by its ExportColumn, so an SIS
id like 000123 stays text.
"""

from __future__ import annotations

import csv
import datetime
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import xlsxwriter

from classrooms.spreadsheets import looks_like_formula, spreadsheet_unquote
from reports.exports.columns import ColumnType, ExportColumn

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The most rows one worksheet holds (the header included).
MAX_WORKSHEET_ROWS = 1_048_576
_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")
_NUMBERS = (ColumnType.INTEGER, ColumnType.DECIMAL, ColumnType.NUMBER)


class WorkbookTooLarge(ValueError):
    """More rows than a worksheet holds: the CSV export has no such limit."""


def workbook_blocks(
    csv_blocks: Iterable[bytes],
    columns: Sequence[ExportColumn],
    *,
    sheet_name: str,
    chunk_bytes: int,
) -> Iterator[bytes]:
    """The workbook of the CSV export ``csv_blocks`` (UTF-8, no byte-order mark, a header
    naming ``columns``), in chunks of ``chunk_bytes``."""
    with tempfile.TemporaryDirectory(prefix="thinslice-xlsx-") as folder:
        csv_path = Path(folder) / "rows.csv"
        with csv_path.open("wb") as output:
            for block in csv_blocks:
                output.write(block)
        xlsx_path = Path(folder) / "export.xlsx"
        _write_workbook(csv_path, xlsx_path, columns, sheet_name, folder)
        with xlsx_path.open("rb") as handle:
            yield from iter(partial(handle.read, chunk_bytes), b"")


def _write_workbook(
    csv_path: Path,
    xlsx_path: Path,
    columns: Sequence[ExportColumn],
    sheet_name: str,
    folder: str,
) -> None:
    workbook = xlsxwriter.Workbook(
        str(xlsx_path),
        {
            "constant_memory": True,
            "tmpdir": folder,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    try:
        sheet = workbook.add_worksheet(_NOT_IN_SHEET_NAMES.sub(" ", sheet_name)[:31] or "Export")
        formats = {
            "header": workbook.add_format({"bold": True}),
            "quoted": workbook.add_format({"quote_prefix": True}),
            "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
            "timestamp": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
        }
        types = {column.name: column.type for column in columns}
        with csv_path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, [])
            for index, name in enumerate(header):
                sheet.write_string(0, index, name, formats["header"])
            sheet.freeze_panes(1, 0)
            kinds = [types.get(name, ColumnType.TEXT) for name in header]
            for row, record in enumerate(reader, start=1):
                if row >= MAX_WORKSHEET_ROWS:
                    raise WorkbookTooLarge(
                        "The export has more rows than an Excel worksheet holds; choose CSV."
                    )
                for index, (cell, kind) in enumerate(zip(record, kinds, strict=False)):
                    _write_cell(sheet, row, index, cell, kind, formats)
    finally:
        workbook.close()


def _write_cell(
    sheet: Any, row: int, column: int, cell: str, kind: ColumnType, formats: dict[str, Any]
) -> None:
    if cell == "":
        return
    if kind in _NUMBERS:
        sheet.write_number(row, column, float(Decimal(cell)))
    elif kind == ColumnType.BOOLEAN:
        sheet.write_boolean(row, column, cell == "true")
    elif kind in (ColumnType.DATE, ColumnType.UTC_DATE):
        sheet.write_datetime(row, column, datetime.date.fromisoformat(cell), formats["date"])
    elif kind == ColumnType.TIMESTAMP:
        moment = datetime.datetime.fromisoformat(cell.replace("Z", "+00:00")).replace(tzinfo=None)
        sheet.write_datetime(row, column, moment, formats["timestamp"])
    elif kind == ColumnType.TEXT:
        text = spreadsheet_unquote(cell)
        if looks_like_formula(text):
            sheet.write_string(row, column, text, formats["quoted"])
        else:
            sheet.write_string(row, column, text)
    else:
        sheet.write_string(row, column, cell)

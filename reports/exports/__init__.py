"""Exports of a district's data as CSV (and OneRoster results as a zip of CSV files).

The rules, in the order a request meets them, and where each lives:

- **Who and which rows** (``scoping``): a signed-in member of a district exports from that
  district only; district admins export the whole district; student-level exports (scores,
  student growth, OneRoster results) are for district admins and teachers, a teacher's limited
  to the classrooms they teach; coaches get aggregate growth only. Every export starts from
  ``Model.objects.visible_to(actor)`` and only narrows it (district, classrooms, filters).
- **What each kind holds** (``registry``, one module per kind: ``scores``, ``student_growth``,
  ``aggregate_growth``, ``oneroster_results``): columns and rows, documented column by column
  in docs/data-dictionary.md. Callers never branch on the kind.
- **Safe in spreadsheets** (``columns``, by the rule of ``classrooms.spreadsheets``): a quote
  before every place a spreadsheet could start a formula; numbers, dates and true/false are
  written as they are. UTF-8, LF line ends, a byte-order mark first unless plain UTF-8 is asked
  for (``excel`` False).
- **Excel workbooks** (``workbook``): every one-table export is also offered as .xlsx, typed
  cells, header frozen, written by XlsxWriter in constant memory.
- **Streaming** (``writing``): PostgreSQL's ``COPY (query) TO STDOUT (FORMAT csv)`` writes the
  rows, formatted in SQL, in ~256 KB chunks, so memory does not grow with the number of rows.
- **Size and audit** (``exporting``): up to THINSLICE_EXPORT_ASYNC_ROWS rows stream in the
  request, a larger export becomes an ExportJob; every export and download is audited.
- **Jobs** (``jobs``): claimed, written in batches, retried, failed, downloaded until they
  expire, withdrawn when a student's data is deleted. Settings: ``settings``.
"""

from reports.exports.exporting import (
    PreparedExport,
    export_blocks,
    export_exceeds_threshold,
    export_kinds_available,
    export_prepare,
    export_row_count,
    export_stream,
)
from reports.exports.jobs import (
    ExportAttempt,
    ExportFile,
    ExportFileGone,
    export_job_attempt,
    export_job_create,
    export_job_file_open,
    export_job_files_expire,
    export_job_files_withdraw,
    export_job_list,
)
from reports.exports.registry import EXPORTS, STUDENT_LEVEL_KINDS, export_definition
from reports.exports.scoping import ExportFilters, ExportScope, export_scope
from reports.exports.settings import export_async_rows
from reports.exports.workbook import XLSX_CONTENT_TYPE
from reports.exports.writing import CHUNK_BYTES, ExportProgress

__all__ = [
    "CHUNK_BYTES",
    "EXPORTS",
    "STUDENT_LEVEL_KINDS",
    "XLSX_CONTENT_TYPE",
    "ExportAttempt",
    "ExportFile",
    "ExportFileGone",
    "ExportFilters",
    "ExportProgress",
    "ExportScope",
    "PreparedExport",
    "export_async_rows",
    "export_blocks",
    "export_definition",
    "export_exceeds_threshold",
    "export_job_attempt",
    "export_job_create",
    "export_job_file_open",
    "export_job_files_expire",
    "export_job_files_withdraw",
    "export_job_list",
    "export_kinds_available",
    "export_prepare",
    "export_row_count",
    "export_scope",
    "export_stream",
]
